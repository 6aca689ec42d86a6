"""``LoopThread``: the daemon event loop behind ``lettr_sync.Lettr``."""

from __future__ import annotations

import asyncio
import gc
import threading
from concurrent.futures import CancelledError

import pytest

from lettr_sync._loop import LoopThread


async def _nothing() -> None:
    """A finaliser with nothing to close."""


def test_call_cancelled_before_it_starts_leaves_no_unawaited_coroutine() -> None:
    loop_thread = LoopThread("test-loop")
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


def test_shutdown_cancels_calls_in_flight_then_runs_the_finaliser() -> None:
    loop_thread = LoopThread("test-loop")
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
    assert threading.current_thread().name != "test-loop"


def test_thread_is_a_daemon_so_exit_never_joins_it_before_atexit() -> None:
    loop_thread = LoopThread("test-loop")
    try:
        assert [t.daemon for t in threading.enumerate() if t.name == "test-loop"] == [True]
    finally:
        loop_thread.shutdown(_nothing)
