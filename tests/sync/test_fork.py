"""Fork safety: a client used before ``os.fork()`` works in the child with its own loop."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import warnings
from collections.abc import Callable

import pytest

import lettr_sync
from lettr_async.testing import FakeLettr

from .conftest import make_sync_client

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _in_child(body: Callable[[], str]) -> tuple[int, str]:
    """Run ``body`` in a forked child; return its exit status and what it reported.

    The child reports through a pipe and always leaves with ``os._exit`` so it
    never runs the parent's pytest machinery or atexit hooks.
    """
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns about forking a multi-threaded process; that is the point.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, reported via the pipe
        status = 1
        try:
            os.close(read_end)
            message = body()
            status = 0
        except BaseException as exc:
            message = f"{type(exc).__name__}: {exc}"
        with contextlib.suppress(BaseException):
            os.write(write_end, message.encode())
        os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        report = pipe.read().decode()
    _, wait_status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(wait_status), report


def test_child_gets_a_fresh_portal_and_async_client(fake_thread: FakeLettr) -> None:
    client = make_sync_client(fake_thread)
    view = client.with_options(max_retries=0)
    try:
        client.webhooks.list()  # the parent's portal and connection exist now
        parent_portal = client._runtime.portal
        parent_async = client._async()

        def child() -> str:
            created = client.webhooks.create(
                name="From child",
                url="https://example.com/child",
                auth_type="none",
                events_mode="all",
            )
            runtime = client._runtime
            assert runtime.portal is not parent_portal
            assert client._async() is not parent_async
            assert view.max_retries == 0
            assert view._async() is not parent_async
            names = [w.name for w in view.webhooks.list()]
            client.close()
            alive = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
            return f"{created.name}|{','.join(names)}|{len(alive)}"

        status, report = _in_child(child)
        assert (status, report) == (0, "From child|From child|0")
        # The parent's client never noticed: same portal, and it still works.
        assert client._runtime.portal is parent_portal
        assert [w.name for w in client.webhooks.list()] == ["From child"]
        # The parent's pooled one; in the child, a fresh one for the create
        # (never a kept-alive one) and a pooled one for the list.
        assert fake_thread.connections_opened == 3
    finally:
        client.close()


def test_the_parents_portal_never_waits_for_its_absent_loop_in_the_child(
    fake_thread: FakeLettr,
) -> None:
    client = make_sync_client(fake_thread)
    try:
        client.webhooks.list()

        def child() -> str:
            signal.alarm(60)  # a hang below kills the child instead of the test run
            client.webhooks.list()  # the child's own portal; the parent's is inherited
            inherited = client._runtime.inherited
            assert inherited is not None
            assert inherited[1] is not None
            # What the portal's context manager does if it is ever finalised
            # here: it must fail at once, not wait for a loop that never runs.
            try:
                inherited[1].portal.call(threading.current_thread)
            except RuntimeError as exc:
                client.close()
                return str(exc)
            return "the parent's portal answered in the child"

        status, report = _in_child(child)
        assert (status, report) == (0, "This portal is not running")
    finally:
        client.close()


def test_fork_before_first_use_and_closed_client_in_child(fake_thread: FakeLettr) -> None:
    client = make_sync_client(fake_thread)
    try:

        def child() -> str:
            count = len(client.webhooks.list())
            client.close()
            try:
                client.webhooks.list()
            except lettr_sync.LettrError as exc:
                return f"{count}|{exc.message}"
            return "no error after close"

        status, report = _in_child(child)
        assert status == 0
        assert report.startswith("0|this Lettr client has been closed")
        assert client.webhooks.list() == []  # the parent starts its own portal
    finally:
        client.close()
