"""The CLI's defaults are the client's: one home for each (issue 21, item 3)."""

from __future__ import annotations

import inspect

import pytest
from click.testing import CliRunner

from lettr_async import API_KEY_ENV, AsyncLettr, AsyncWebhooks, ValidationError
from lettr_async.cli._app import cli
from lettr_async.cli._context import Settings
from tests.helpers import API_KEY

DEFAULTS = {name: p.default for name, p in inspect.signature(AsyncLettr).parameters.items()}


def test_the_global_options_default_to_the_client_s_settings() -> None:
    settings = Settings()
    assert (settings.timeout, settings.max_retries, settings.rate_limit) == (
        DEFAULTS["timeout"],
        DEFAULTS["max_retries"],
        DEFAULTS["rate_limit"],
    )
    help_text = " ".join(CliRunner().invoke(cli, ["--help"]).stdout.split())
    assert f"${API_KEY_ENV}" in help_text
    for option in ("timeout", "max-retries", "rate-limit"):
        value = DEFAULTS[option.replace("-", "_")]
        assert f"--{option}" in help_text
        assert f"[default: {value}" in help_text.split(f"--{option}", 1)[1]


def test_bulk_concurrency_defaults_to_the_sdk_s() -> None:
    default = inspect.signature(AsyncWebhooks.update_many).parameters["concurrency"].default
    for command in (["bulk-update"], ["bulk-delete"], ["apply"]):
        text = " ".join(CliRunner().invoke(cli, [*command, "--help"]).stdout.split())
        assert "--concurrency INTEGER RANGE" in text
        assert f"[default: {default}; x>=1]" in text


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "2"])
def test_one_positive_integer_rule_names_each_field(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        AsyncLettr(API_KEY, connection_limit=value)  # type: ignore[arg-type]
    assert info.value.errors == {"connection_limit": ["must be a positive integer."]}


@pytest.mark.anyio
async def test_bulk_concurrency_uses_the_same_rule() -> None:
    async with AsyncLettr(API_KEY, base_url="http://127.0.0.1:9/api") as client:
        with pytest.raises(ValidationError) as info:
            await client.webhooks.delete_many(["a"], concurrency=True)
    assert info.value.errors == {"concurrency": ["must be a positive integer."]}
