"""Helpers for driving ``lettr-webhooks`` in-process against a threaded FakeLettr."""

from __future__ import annotations

import functools

import pytest

from lettr_async.testing import FakeLettr
from tests import helpers

from ._helpers import Invoke, invoke_cli


@pytest.fixture
def invoke(fake_thread: FakeLettr) -> Invoke:
    """Run the CLI against ``fake_thread`` (see ``invoke_cli``); never catch exceptions."""
    return functools.partial(invoke_cli, fake_thread.base_url)


@pytest.fixture
def closed_port() -> int:
    """A localhost port nothing listens on."""
    return helpers.closed_port()


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend stdin is a terminal, so a command that asks first reads ``input=``.

    CliRunner's stdin is never a terminal, and without one the CLI refuses to
    ask (``require_answerable``).
    """
    monkeypatch.setattr("lettr_async.cli._context.stdin_is_tty", lambda: True)
