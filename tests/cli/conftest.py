"""Helpers for driving ``lettr-webhooks`` in-process against a threaded FakeLettr."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result

from lettr_async.cli._app import cli
from lettr_async.testing import FakeLettr

from ._helpers import API_KEY

Invoke = Callable[..., Result]


@pytest.fixture
def invoke(fake_thread: FakeLettr) -> Invoke:
    """Run the CLI against ``fake_thread`` with LETTR_* env set; never catch exceptions."""

    def run(
        *args: str, input: str | None = None, env: dict[str, str | None] | None = None
    ) -> Result:
        full_env: dict[str, str | None] = {
            "LETTR_BASE_URL": fake_thread.base_url,
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

    return run


@pytest.fixture
def closed_port() -> int:
    """A localhost port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
