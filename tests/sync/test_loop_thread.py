"""``LoopThread``: the daemon event loop behind ``lettr_sync.Lettr``."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator
from concurrent.futures import CancelledError

import pytest

from lettr_sync._loop import LoopThread


async def _nothing() -> None:
    """A finaliser with nothing to close."""


@pytest.fixture
def loop_thread(request: pytest.FixtureRequest) -> Iterator[LoopThread]:
    """A started ``LoopThread`` named after the test, always shut down afterwards."""
    started = LoopThread(f"loop-{request.node.name}")
    try:
        yield started
    finally:
        started.shutdown(_nothing)


def test_call_cancelled_before_it_starts_leaves_no_unawaited_coroutine(
    loop_thread: LoopThread,
) -> None:
    gate = threading.Event()
    started: list[str] = []

    async def work() -> str:
        started.append("work")
        return "done"

    # Block the loop so the call is still queued when its caller gives up
    # (what Ctrl-C right after submitting does).
    loop_thread.loop.call_soon_threadsafe(gate.wait)
    future = loop_thread.submit(work)
    assert future.cancel()
    gate.set()
    loop_thread.shutdown(_nothing)
    gc.collect()  # an unawaited coroutine would warn here: an error in this suite
    assert started == []
    assert not loop_thread.alive
    with pytest.raises(CancelledError):
        future.result()


def test_shutdown_cancels_calls_in_flight_then_runs_the_finaliser(
    loop_thread: LoopThread,
) -> None:
    order: list[str] = []
    running = threading.Event()

    async def forever() -> None:
        running.set()
        try:
            await asyncio.Event().wait()
        finally:
            order.append("call cancelled")

    async def finaliser() -> None:
        order.append("finaliser")

    future = loop_thread.submit(forever)
    assert running.wait(30)
    loop_thread.shutdown(finaliser)
    assert order == ["call cancelled", "finaliser"]
    with pytest.raises(CancelledError):
        future.result()
    assert not loop_thread.alive
    assert loop_thread.loop.is_closed()


def test_thread_is_a_daemon_so_exit_never_joins_it_before_atexit(
    loop_thread: LoopThread, request: pytest.FixtureRequest
) -> None:
    name = f"loop-{request.node.name}"
    assert [t.daemon for t in threading.enumerate() if t.name == name] == [True]


def test_shutdown_from_the_loop_thread_schedules_instead_of_joining(
    loop_thread: LoopThread,
) -> None:
    returned = threading.Event()

    def from_inside() -> None:
        loop_thread.shutdown(_nothing)  # would deadlock if it joined its own thread
        returned.set()

    loop_thread.loop.call_soon_threadsafe(from_inside)
    assert returned.wait(30)
    loop_thread.join()
    assert not loop_thread.alive
