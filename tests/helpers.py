"""Small helpers shared by the client tests (no fixtures: those live in conftest)."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from lettr_async import AsyncLettr, RetryPolicy
from lettr_async.hooks import Hooks
from lettr_async.testing import FakeLettr

API_KEY = "lttr_test_key"
FAST_RETRIES = RetryPolicy(backoff_initial=0.01, backoff_max=0.05)


def make_client(fake: FakeLettr, **kwargs: Any) -> AsyncLettr:
    """An AsyncLettr for ``fake`` with pacing off and near-instant backoff."""
    kwargs.setdefault("rate_limit", None)
    kwargs.setdefault("retry_policy", FAST_RETRIES)
    return AsyncLettr(API_KEY, base_url=fake.base_url, **kwargs)


@contextlib.contextmanager
def ctrl_c_raises() -> Iterator[None]:
    """Make SIGINT raise ``KeyboardInterrupt`` in the main thread for the block.

    Python installs that handler only when SIGINT is not ignored at start-up,
    and a shell ignores it for background jobs (``pytest ... &``, ``nohup``):
    a Ctrl-C test must not depend on how the suite was launched.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def writes(fake: FakeLettr) -> list[str]:
    """The write requests (POST/PUT/PATCH/DELETE) the fake received, as ``METHOD path``."""
    return [f"{r.method} {r.path}" for r in fake.requests if r.method != "GET"]


def recording_hooks() -> tuple[Hooks, list[Any]]:
    """Hooks that append every record they receive, in order, to the returned list."""
    seen: list[Any] = []
    hooks = Hooks(
        on_request=seen.append,
        on_response=seen.append,
        on_retry=seen.append,
        on_rate_limit_wait=seen.append,
        on_call_end=seen.append,
    )
    return hooks, seen


def requests_to(fake: FakeLettr, method: str, path_prefix: str = "/webhooks") -> list[Any]:
    """The recorded requests with this method whose path starts with ``path_prefix``."""
    return [r for r in fake.requests if r.method == method and r.path.startswith(path_prefix)]


def run_python(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in a fresh interpreter with every warning (ResourceWarning too) an error.

    Not ``-X dev``: its asyncio debug mode logs any callback slower than 0.1 s,
    which a busy machine produces without any bug.
    """
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
