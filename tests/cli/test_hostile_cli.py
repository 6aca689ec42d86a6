"""The command line against hostile server data and hostile paths (issue 19, item 9 and more).

In-process (``CliRunner``) against a threaded FakeLettr, as the other CLI tests;
``CliRunner`` encodes output as UTF-8 strictly, like a real UTF-8 terminal, so a
lone surrogate that reached ``echo`` would fail here as it fails for users.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lettr_async.declarative import ConfigError, load_config, parse_config
from lettr_async.testing import FakeLettr, Fault
from tests.declarative._util import ENV, write_config

from ._helpers import Invoke, file_runner, invoke_cli

HOST = "https://shop.example.com"
SURROGATE_NAME = "shop-\ud800-orders"
CONTROL_NAME = "shop-\x7f-\x85-\u202e-orders"


@pytest.fixture
def run(fake_thread: FakeLettr, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Invoke the CLI in ``tmp_path`` with the webhooks-file ``ENV`` plus ``env``."""
    monkeypatch.chdir(tmp_path)
    return file_runner(fake_thread.base_url, ENV)


def test_a_lone_surrogate_in_a_name_is_escaped_everywhere(
    fake_thread: FakeLettr, run: Invoke, tmp_path: Path
) -> None:
    fake_thread.add_webhook(name=SURROGATE_NAME, url=f"{HOST}/a")
    table = run("list")
    assert table.exit_code == 0, table.output
    assert "shop-\\ud800-orders" in table.stdout
    documents = run("--json", "list")
    assert documents.exit_code == 0
    assert json.loads(documents.stdout)[0]["name"] == SURROGATE_NAME  # read back exactly
    exported = run("export")
    assert exported.exit_code == 0, exported.output
    assert "written as U+FFFD" in exported.stdout
    (hook,) = parse_config(exported.stdout, env={}).webhooks
    assert hook.name == "shop-\ufffd-orders"


def test_export_round_trips_control_characters(
    fake_thread: FakeLettr, run: Invoke, tmp_path: Path
) -> None:
    fake_thread.add_webhook(name=CONTROL_NAME, url=f"{HOST}/a")
    exported = run("export", "-o", "exported.toml")
    assert exported.exit_code == 0, exported.output
    text = (tmp_path / "exported.toml").read_text()
    assert "\x7f" not in text
    assert "\u202e" not in text
    (hook,) = load_config(tmp_path / "exported.toml", env={}).webhooks
    assert hook.name == CONTROL_NAME
    again = run("plan", "-f", "exported.toml", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_plan_out_never_writes_through_a_symlink(
    fake_thread: FakeLettr, run: Invoke, tmp_path: Path
) -> None:
    write_config(tmp_path)
    target = tmp_path / "precious.txt"
    target.write_text("precious\n")
    (tmp_path / "plan.json").symlink_to(target)
    result = run("plan", "-out", "plan.json")
    assert result.exit_code == 2
    assert "plan.json is a symbolic link; not writing through it" in result.stderr
    assert target.read_text() == "precious\n"
    assert (tmp_path / "plan.json").is_symlink()


def test_export_never_creates_through_a_dangling_symlink(
    fake_thread: FakeLettr, run: Invoke, tmp_path: Path
) -> None:
    fake_thread.add_webhook(name="a", url=f"{HOST}/a")
    (tmp_path / "out.toml").symlink_to(tmp_path / "elsewhere.toml")
    result = run("export", "-o", "out.toml")
    assert result.exit_code == 2
    assert "out.toml exists; not overwriting it" in result.stderr
    assert not (tmp_path / "elsewhere.toml").exists()


def test_a_secret_in_a_url_is_masked_in_every_plan_output(
    fake_thread: FakeLettr, run: Invoke, tmp_path: Path
) -> None:
    secret = "url-pa55word-Kq8"
    write_config(tmp_path, '[[webhooks]]\nname = "a"\nurl = "https://u:${HOOK_PASS}@h.example/x"\n')
    outputs = [
        run("plan", "-out", "plan.json", HOOK_PASS=secret).stdout,
        run("plan", "--json", HOOK_PASS=secret).stdout,
        (tmp_path / "plan.json").read_text(),
    ]
    fake_thread.inject(Fault.status(500, json={"message": f"no {secret} here"}), method="POST")
    failed = run("apply", "--yes", HOOK_PASS=secret)
    assert failed.exit_code == 1
    assert "no *** here" in failed.stdout
    outputs += [failed.output, run("apply", "--yes", "--json", HOOK_PASS=secret).stdout]
    for output in outputs:
        assert "https://***@h.example/x" in output
        assert secret not in output


def test_multi_line_errors_keep_their_line_breaks(run: Invoke, tmp_path: Path) -> None:
    write_config(
        tmp_path, '[[webhooks]]\nname = "a"\nurl = "${NOPE}/x"\n\n[[webhooks]]\nname = ""\n'
    )
    result = run("plan")
    assert result.exit_code == 2
    assert "\\x0a" not in result.stderr
    head, *problems = result.stderr.splitlines()
    assert head == "error: lettr-webhooks.toml has 3 problem(s); nothing was sent"
    assert problems == [
        "  lettr-webhooks.toml: webhooks[0] (a).url: environment variable NOPE is not set.",
        "  lettr-webhooks.toml: webhooks[1].name: must not be empty.",
        "  lettr-webhooks.toml: webhooks[1].url: is required.",
    ]


def test_short_values_are_not_masked(fake_thread: FakeLettr, closed_port: int) -> None:
    result = invoke_cli(f"http://127.0.0.1:{closed_port}", "--api-key", "k", "list")
    assert result.exit_code == 4
    assert "network error" in result.stderr


def test_a_user_name_is_not_a_secret(run: Invoke, tmp_path: Path) -> None:
    write_config(
        tmp_path,
        '[[webhooks]]\nname = "a"\nurl = "https://h.example/a"\nauth_type = "basic"\n'
        'auth_username = "lettr-webhooks"\nauth_password = { env = "ORDERS_HOOK_PASSWORD" }\n',
    )
    result = run("plan", "--prune")  # no [ownership]: an error keyed by the file name
    assert result.exit_code == 2
    assert "lettr-webhooks.toml: prune needs an [ownership] table" in result.stderr
    assert "***" not in result.stderr


def test_plan_header_counts_deletions_and_replacements_apart(
    fake_thread: FakeLettr, run: Invoke, tmp_path: Path
) -> None:
    fake_thread.add_webhook(name="shop-x", url=f"{HOST}/x", events=["open"])
    fake_thread.add_webhook(name="shop-old", url=f"{HOST}/old")
    write_config(
        tmp_path,
        '[ownership]\nname_prefix = "shop-"\n\n'
        f'[[webhooks]]\nname = "shop-x"\nurl = "{HOST}/x"\nevents = "all"\n',
    )
    result = run("plan", "--prune")
    assert result.exit_code == 0, result.output
    assert "WARNING: 1 webhook endpoint(s) will be DELETED (prune)" in result.stdout
    assert "WARNING: 1 webhook endpoint(s) will be replaced" in result.stdout
    assert "1 to replace, 1 to delete" in result.stdout


def test_apply_without_a_terminal_needs_yes(
    fake_thread: FakeLettr, run: Invoke, tmp_path: Path
) -> None:
    write_config(tmp_path)
    result = run("apply")
    assert result.exit_code == 2
    assert "stdin is not a terminal: pass --yes" in result.stderr
    assert "Aborted" not in result.stderr
    as_json = run("--json", "apply")
    assert json.loads(as_json.stdout)["error"]["exit_code"] == 2
    assert fake_thread.requests == []


def test_a_missing_secret_without_a_terminal_names_its_variable(
    fake_thread: FakeLettr, invoke: Invoke
) -> None:
    result = invoke(
        "create", "--name", "x", "--url", "https://x.example.com", "--auth-type", "oauth2",
        "--oauth-client-id", "c", "--oauth-token-url", "https://x.example.com/t",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "set $LETTR_OAUTH_CLIENT_SECRET" in result.stderr
    assert fake_thread.requests == []


def test_every_problem_at_once_one_message_each() -> None:
    text = (
        '[[webhooks]]\nname = "a"\nurl = "${NOPE}/x"\n\n'
        '[[webhooks]]\nname = "a"\nurl = "https://h.example/b"\nenabled = "yes"\n'
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="f.toml", env={})
    errors = info.value.errors
    assert errors["f.toml: webhooks[0] (a).url"] == ["environment variable NOPE is not set."]
    assert errors["f.toml: webhooks[1] (a).enabled"] == ["must be true or false."]
    assert errors["f.toml: webhooks[1] (a).name"] == [
        "duplicates the name of webhooks[0]; each endpoint must appear once."
    ]


def test_a_deeply_nested_plan_file_is_not_a_plan(
    fake_thread: FakeLettr, run: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "plan.json").write_text("[" * 100_000 + "]" * 100_000)
    result = run("--json", "apply", "plan.json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert "plan: is not valid JSON." in error["message"]
    assert fake_thread.requests == []


def test_server_text_in_apply_results_is_escaped(
    fake_thread: FakeLettr, run: Invoke, tmp_path: Path
) -> None:
    write_config(tmp_path, f'[[webhooks]]\nname = "a"\nurl = "{HOST}/a"\n')
    fault = Fault.status(500, json={"message": "bad\x1b]0;pwned\x07", "error_code": "x"})
    fake_thread.inject(fault, method="POST")
    result = run("apply", "--yes")
    assert result.exit_code == 1
    assert "\x1b" not in result.stdout
    assert "\\x1b]0;pwned\\x07" in result.stdout
