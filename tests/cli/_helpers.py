"""Small shared helpers for the CLI tests (the webhooks-as-code CLI tests use them too)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from click.testing import CliRunner, Result

from lettr_async.cli._app import cli
from tests.helpers import API_KEY

Invoke = Callable[..., Result]


def invoke_cli(
    base_url: str,
    *args: str,
    input: str | None = None,
    env: Mapping[str, str | None] | None = None,
) -> Result:
    """Run ``lettr-webhooks`` in-process against ``base_url``; never catch exceptions.

    The test key, no pacing and no retries; the delivery-secret ``LETTR_*``
    variables are unset (``env`` may set them), so the shell running the
    tests cannot change what a command does.
    """
    full_env: dict[str, str | None] = {
        "LETTR_BASE_URL": base_url,
        "LETTR_API_KEY": API_KEY,
        "LETTR_AUTH_PASSWORD": None,
        "LETTR_OAUTH_CLIENT_SECRET": None,
        **(env or {}),
    }
    return CliRunner().invoke(
        cli,
        ["--rate-limit", "0", "--max-retries", "0", *args],
        input=input,
        env=full_env,
        catch_exceptions=False,
    )


def file_runner(base_url: str, env: Mapping[str, str]) -> Invoke:
    """``invoke_cli`` with ``env`` plus per-call ``NAME=value`` overrides (webhooks-file tests)."""

    def invoke(*args: str, input: str | None = None, **extra: str) -> Result:
        return invoke_cli(base_url, *args, input=input, env={**env, **extra})

    return invoke


def parse(result: Result) -> Any:
    """The JSON document a successful ``--json`` command printed on stdout."""
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return json.loads(result.stdout)
