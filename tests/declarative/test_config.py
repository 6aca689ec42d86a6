"""The webhooks file: validation of the whole file, env references, interpolation."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from lettr_async import ValidationError
from lettr_async.declarative import ConfigError, default_lock_path, load_config, parse_config
from lettr_async.resources._params import build_create_params, webhook_path
from lettr_async.types import AuthType

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10
    import tomli as tomllib

from ._util import CLIENT_SECRET, CONFIG, ENV, PASSWORD, load, write_config


def test_a_valid_file_loads_with_env_resolved(tmp_path: Path) -> None:
    state = load(write_config(tmp_path))
    orders, crm, audit = state.webhooks
    assert orders.url == "https://shop.example.com/hooks/orders"
    assert orders.events == ("message.bounce", "message.delivery")
    assert orders.auth_type is AuthType.BASIC
    assert {c.field: c.env for c in orders.credentials} == {
        "auth_username": None,
        "auth_password": "ORDERS_HOOK_PASSWORD",
    }
    assert crm.events is None
    assert crm.credentials[2].value == "https://shop.example.com/oauth/token"
    assert audit.enabled is False
    assert audit.auth_type is AuthType.NONE
    assert state.lock_path == tmp_path / "lettr-webhooks.lock.json"
    assert default_lock_path(tmp_path / "x.toml") == tmp_path / "x.lock.json"
    assert PASSWORD not in repr(state)
    assert CLIENT_SECRET not in repr(state)


def test_a_literal_secret_is_refused_without_echoing_it(tmp_path: Path) -> None:
    text = CONFIG.replace('{ env = "ORDERS_HOOK_PASSWORD" }', '"hunter2-literal"')
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load(path)
    key = f"{path}: webhooks[0] (shop-orders).auth_password"
    assert list(info.value.errors) == [key]
    assert "literal secrets are refused" in info.value.errors[key][0]
    assert "hunter2-literal" not in str(info.value)
    assert "hunter2-literal" not in repr(info.value.errors)
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    assert isinstance(info.value, ValidationError)
    assert info.value.status_code is None


def test_every_problem_of_the_file_is_reported_at_once() -> None:
    text = """
version = 1
colour = "blue"
[[webhooks]]
name = "a"
url = "ftp://nope"
events = ["delivery", "no_such_event"]
auth_type = "basic"
auth_username = "u"
[[webhooks]]
url = "https://ok.example/x"
enabled = "yes"
oauth_client_id = "x"
"""
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="hooks.toml", env={})
    errors = info.value.errors
    assert set(errors) == {
        "hooks.toml: colour",
        "hooks.toml: webhooks[0] (a).url",
        "hooks.toml: webhooks[0] (a).events[1]",
        "hooks.toml: webhooks[0] (a).auth_password",
        "hooks.toml: webhooks[1].name",
        "hooks.toml: webhooks[1].enabled",
        "hooks.toml: webhooks[1].oauth_client_id",
    }
    assert "7 problem(s)" in info.value.message


def test_missing_env_variables_are_named() -> None:
    env = {k: v for k, v in ENV.items() if k not in ("APP_HOST", "CRM_CLIENT_SECRET")}
    with pytest.raises(ConfigError) as info:
        parse_config(CONFIG, source="f.toml", env=env)
    messages = {k: " ".join(v) for k, v in info.value.errors.items()}
    assert "APP_HOST is not set" in messages["f.toml: webhooks[0] (shop-orders).url"]
    assert (
        "CRM_CLIENT_SECRET is not set"
        in messages["f.toml: webhooks[1] (shop-crm).oauth_client_secret"]
    )


def test_interpolation_and_its_escape() -> None:
    text = """
[[webhooks]]
name = "${ENV_NAME}-hook $${literal}"
url = "${HOST}/a?x=$${y}"
"""
    state = parse_config(text, env={"ENV_NAME": "staging", "HOST": "https://s.example"})
    (hook,) = state.webhooks
    assert hook.name == "staging-hook ${literal}"
    assert hook.url == "https://s.example/a?x=${y}"
    assert state.lock_path is None


def test_duplicates_and_entries_outside_the_ownership_are_refused() -> None:
    text = """
[ownership]
url_prefix = "https://mine.example/"
[[webhooks]]
name = "a"
url = "https://mine.example/1"
[[webhooks]]
name = "a"
url = "https://mine.example/1"
[[webhooks]]
name = "b"
url = "https://theirs.example/1"
"""
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="f", env={})
    errors = info.value.errors
    assert "duplicates the name of webhooks[0]" in " ".join(errors["f: webhooks[1] (a).name"])
    assert "duplicates the url of webhooks[0]" in " ".join(errors["f: webhooks[1] (a).url"])
    assert "outside the declared ownership" in " ".join(errors["f: webhooks[2] (b)"])


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("version = 2", "f: version"),
        ("webhooks = 3", "f: webhooks"),
        ("[ownership]\nfoo = 1", "f: ownership.foo"),
        ('[[webhooks]]\nname="a"\nurl="https://x.example"\nauth_password={ env = "P" }',
         "f: webhooks[0] (a).auth_password"),
        ('[[webhooks]]\nname="a"\nurl="https://x.example"\nauth_type="basic"\n'
         'auth_username="u"\nauth_password={ env = "1BAD" }', "f: webhooks[0] (a).auth_password"),
        ('[[webhooks]]\nname="a"\nurl="https://x.example"\nid=""', "f: webhooks[0] (a).id"),
        ("not toml [", "f"),
        ('[[webhooks]]\nname="a"\nurl="https://[::1/x"', "f: webhooks[0] (a).url"),
        ('[[webhooks]]\nname="a"\nurl="https://:80/x"', "f: webhooks[0] (a).url"),
        ('[[webhooks]]\nname="a"\nurl="https://x.example"\nevents=[]', "f: webhooks[0] (a).events"),
    ],
)  # fmt: skip
def test_each_kind_of_mistake_names_its_field(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="f", env={"P": "x"})
    assert key in info.value.errors


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


# -- the file follows the client's rules (lettr_async._validation owns them) ---------------

_CLIENT_OK = {"auth_type": "none", "events_mode": "all"}


def _config_errors(text: str, env: dict[str, str]) -> dict[str, list[str]]:
    """``{field: messages}`` of the single entry of ``text`` ({} when it loads)."""
    try:
        parse_config(text, source="f", env=env)
    except ConfigError as exc:
        return {key.rpartition(".")[2]: messages for key, messages in exc.errors.items()}
    return {}


def _client_errors(**fields: Any) -> dict[str, list[str]]:
    """``{field: messages}`` of ``webhooks.create`` with these fields ({} when valid)."""
    try:
        build_create_params(**{**_CLIENT_OK, **fields})
    except ValidationError as exc:
        return dict(exc.errors)
    return {}


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("a", "https://x.example/"),
        ("a" * 255, "https://x.example/"),
        ("a" * 256, "https://x.example/"),
        ("   ", "https://x.example/"),
        ("bad \udcff text", "https://x.example/"),  # os.environ holds undecodable bytes so
        ("a", "https://x.example/\udcff"),  # the config accepted these; the client never did
        ("a", "https://x.example/" + "p" * (2048 - 18)),  # 2048 characters
        ("a", "https://x.example/" + "p" * (2048 - 17)),
        ("a", "ftp://x.example/"),
        ("a", "https://[::1/x"),
        ("a", "https://:80/x"),
    ],
)
def test_names_and_urls_follow_the_clients_rules_and_words(name: str, url: str) -> None:
    text = '[[webhooks]]\nname = "${N}"\nurl = "${U}"\n'
    assert _config_errors(text, {"N": name, "U": url}) == _client_errors(name=name, url=url)


_ENTRY = '[[webhooks]]\nname = "a"\nurl = "https://x.example/"\n'


@pytest.mark.parametrize(
    ("auth", "env", "expected"),
    [
        (
            'auth_type = "oauth2"\noauth_client_id = "client"\n'
            'oauth_client_secret = { env = "SECRET" }\noauth_token_url = { env = "TOKEN_URL" }',
            {"SECRET": "s" * 256, "TOKEN_URL": "not a url"},
            {
                "oauth_client_secret": "the value of SECRET must be at most 255 characters.",
                "oauth_token_url": "the value of TOKEN_URL must be an absolute http(s) URL.",
            },
        ),
        (
            # Formerly accepted, then refused by webhooks.create in the middle of an apply.
            'auth_type = "basic"\nauth_username = "user"\nauth_password = { env = "PW" }',
            {"PW": "pa\udcffss"},
            {"auth_password": "the value of PW must be valid Unicode text (no lone surrogates)."},
        ),
    ],
)
def test_env_credentials_follow_the_clients_rules_naming_the_variable(
    auth: str, env: dict[str, str], expected: dict[str, str]
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_ENTRY + auth, source="f", env=env)
    assert info.value.errors == {
        f"f: webhooks[0] (a).{field}": [message] for field, message in expected.items()
    }
    (entry,) = tomllib.loads(_ENTRY + auth)["webhooks"]
    resolved = {k: env[v["env"]] if isinstance(v, dict) else v for k, v in entry.items()}
    assert set(_client_errors(**resolved)) == set(expected)


@pytest.mark.parametrize("pinned", ["wh\\u0001x", "w" * 256])
def test_a_pinned_id_the_client_cannot_address_is_refused(pinned: str) -> None:
    # Formerly accepted; webhook_path refuses it, so plan/apply never could use it.
    with pytest.raises(ConfigError) as info:
        parse_config(f'{_ENTRY}id = "{pinned}"', source="f", env={})
    assert info.value.errors == {
        "f: webhooks[0] (a).id": [
            "must be at most 255 characters of valid text without control characters."
        ]
    }
    with pytest.raises(ValidationError):
        webhook_path(pinned.replace("\\u0001", "\x01"))
