"""Timeouts of 5 s or more: one timer per event loop, not one per request (issue 23).

``lettr_async._deadlines.DeadlineWatch`` replaces aiohttp's per-request timer
for them and fires when aiohttp's own would (the first whole second of the
loop's clock at or after the deadline). Nothing here measures time: the
watch's decisions are checked with deadlines already due, and the timer
count by counting ``call_at``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

from lettr_async import APITimeoutError, AsyncLettr
from lettr_async._deadlines import DeadlineWatch
from lettr_async.testing import FakeLettr
from tests.helpers import API_KEY, make_client
from tests.rawserver import RawServer, Seen, raw_server

pytestmark = pytest.mark.anyio

COUNTS_CANCELS = sys.version_info >= (3, 11)


def _counting_call_at(loop: asyncio.AbstractEventLoop) -> list[Callable[..., Any]]:
    """Record the callback of every timer the loop is asked for from now on."""
    callbacks: list[Callable[..., Any]] = []
    call_at = loop.call_at

    def counting(when: float, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        callbacks.append(callback)
        return call_at(when, callback, *args, **kwargs)

    loop.call_at = counting  # type: ignore[method-assign,assignment]
    return callbacks


@pytest.mark.parametrize(("seconds", "timers_per_call"), [(30.0, 0), (5.5, 0), (4.9, 1)])
async def test_a_long_timeout_schedules_no_timer_per_request(
    fake: FakeLettr, seconds: float, timers_per_call: int
) -> None:
    hook_id = fake.add_webhook(name="w", url="https://example.com/w")["id"]
    async with make_client(fake, rate_limit=None, timeout=seconds) as client:
        await client.webhooks.get(hook_id)  # opens the connection and the watch's timer
        callbacks = _counting_call_at(asyncio.get_running_loop())
        for _ in range(20):
            assert (await client.webhooks.get(hook_id)).id == hook_id
    # aiohttp's keep-alive cleanup may ask for a timer or two, never one per call.
    assert 20 * timers_per_call <= len(callbacks) <= 20 * timers_per_call + 2


def _client(base_url: str, seconds: float) -> AsyncLettr:
    return AsyncLettr(API_KEY, base_url=base_url, rate_limit=None, timeout=seconds, max_retries=0)


@contextlib.asynccontextmanager
async def _silent_server(arrived: anyio.Event | None = None) -> AsyncIterator[RawServer]:
    """A server that reads a request and answers nothing until the block ends.

    It lets go at the end (Python 3.12+ waits for open connections when a
    server closes), never on a timer.
    """
    release = anyio.Event()

    async def silent(seen: Seen) -> bytes | None:
        if arrived is not None:
            arrived.set()
        await release.wait()
        return None

    async with raw_server(silent) as server:
        try:
            yield server
        finally:
            release.set()


async def test_a_long_timeout_ends_a_silent_request_as_a_timeout() -> None:
    """Real time (5-6 s): the watch's own timer, end to end, with nothing left cancelled."""
    async with (
        _silent_server() as server,
        AsyncLettr(
            API_KEY, base_url=server.base_url, rate_limit=None, timeout=5, max_retries=0
        ) as client,
    ):
        with anyio.fail_after(30), pytest.raises(APITimeoutError, match="timed out"):
            await client.webhooks.list()
        await asyncio.sleep(0)  # no cancellation left pending on this task
        if sys.version_info >= (3, 11):
            task = asyncio.current_task()
            assert task is not None
            assert task.cancelling() == 0
    assert len(server.seen) == 1


async def test_cancelling_a_watched_request_is_a_cancellation_not_a_timeout() -> None:
    arrived = anyio.Event()
    outcomes: list[object] = []
    async with (
        _silent_server(arrived) as server,
        AsyncLettr(API_KEY, base_url=server.base_url, rate_limit=None, timeout=30) as client,
    ):

        async def call() -> None:
            try:
                outcomes.append(await client.webhooks.list())
            except Exception as exc:  # a timeout here would be the bug
                outcomes.append(exc)

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(call)
                await arrived.wait()
                tg.cancel_scope.cancel()
    assert outcomes == []


async def _watched(watch: DeadlineWatch, seconds: float, started: anyio.Event | None = None) -> str:
    """Wait forever under a deadline of ``seconds``; report how the wait ended."""
    task = watch.start(seconds)
    assert task is not None
    try:
        if started is not None:
            started.set()
        await asyncio.get_running_loop().create_future()
    except asyncio.CancelledError:
        if watch.expired(task):
            return "timed out"
        raise
    return "unreachable"


async def test_due_deadlines_cancel_their_tasks_and_only_theirs() -> None:
    watch = DeadlineWatch()
    due = [asyncio.ensure_future(_watched(watch, seconds)) for seconds in (-2.0, -0.5)]
    later = asyncio.ensure_future(_watched(watch, 3600.0))
    with anyio.fail_after(10):
        assert await asyncio.gather(*due) == ["timed out", "timed out"]
    assert not later.done()
    later.cancel()  # someone else's cancellation: not a timeout, it propagates
    with pytest.raises(asyncio.CancelledError):
        await later
    watch.close()


async def test_a_cancellation_racing_the_deadline_still_propagates() -> None:
    watch = DeadlineWatch()
    started = anyio.Event()
    task = asyncio.ensure_future(_watched(watch, -1.0, started))
    await started.wait()
    task.cancel()  # in the same loop iteration as the watch's (already due) timer
    with anyio.fail_after(10):
        if COUNTS_CANCELS:
            with pytest.raises(asyncio.CancelledError):
                await task
        else:  # Python 3.10 cannot tell the two apart: the timeout wins, as in aiohttp
            assert await task == "timed out"


async def test_stop_withdraws_a_cancellation_the_request_swallowed() -> None:
    watch = DeadlineWatch()

    async def swallowing() -> int:
        task = watch.start(-1.0)
        assert task is not None
        # a library that swallows it: the watch must not leave it pending
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.get_running_loop().create_future()
        watch.stop(task)
        await asyncio.sleep(0)  # would raise if a cancellation were still pending
        if sys.version_info >= (3, 11):
            return task.cancelling()
        return 0

    with anyio.fail_after(10):
        assert await asyncio.ensure_future(swallowing()) == 0
    watch.close()
