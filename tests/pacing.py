"""Schedules on simulated time, and the pacing invariant checked on them.

``VirtualClock`` is a ``lettr_async.ratelimit.Clock`` whose time moves only
when every task is waiting on it: then it jumps to the next wake-up. A
limiter (and the pipeline of its client) given one runs a minute of
schedule in milliseconds, and the times it grants are exact: no wake-up is
ever late, so properties of the schedule are asserted on the schedule.
Not ``looptime`` (which fast-forwards the whole event loop): it needs
Python 3.11 and this project supports 3.10; and a clock seam of the
project's own keeps real I/O (FakeLettr, Redis) on real time.

``granted(limiter)`` records the start of every slot the limiter books, on
its store's clock, which is what "no one-second window holds more than the
limit" is about. ``CountingClock`` counts how often the limiter waits on
its clock: wake-ups are seen from outside, not counted by the limiter.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager

import anyio
import anyio.lowlevel

from lettr_async.ratelimit import Clock, Slot, TakeRequest
from lettr_async.ratelimit._limiter import RateLimiter

__all__ = ["CountingClock", "VirtualClock", "granted", "max_in_any_window", "virtual_time"]

# Real seconds the clock lets pass before each jump, so loopback I/O and
# worker threads in flight finish first (a jump during one only makes that
# I/O take simulated time, which no schedule property depends on).
_SETTLE = 0.001


def max_in_any_window(times: list[float], window: float = 1.0) -> int:
    """The most starts that fall in any half-open window ``[t, t + window)``."""
    times = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


class VirtualClock(Clock):
    """Simulated time: ``run()`` jumps it to the next wake-up once nothing else moves."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._heap: list[tuple[float, int]] = []
        self._due: dict[int, Callable[[], None]] = {}
        self._ids = itertools.count()
        self.changes = 0
        """Timers set or cleared so far: unchanged across a settle means all wait."""

    def now(self) -> float:
        return self._now

    def _at(self, when: float, fire: Callable[[], None]) -> int:
        ident = next(self._ids)
        heapq.heappush(self._heap, (when, ident))
        self._due[ident] = fire
        self.changes += 1
        return ident

    def _clear(self, ident: int) -> None:
        if self._due.pop(ident, None) is not None:
            self.changes += 1

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        woken = anyio.Event()
        ident = self._at(self._now + seconds, woken.set)
        try:
            await woken.wait()
        finally:
            self._clear(ident)

    @contextlib.contextmanager
    def move_on_after(self, seconds: float) -> Iterator[anyio.CancelScope]:
        with anyio.CancelScope() as scope:
            ident = self._at(self._now + max(0.0, seconds), scope.cancel)
            try:
                yield scope
            finally:
                self._clear(ident)

    async def run(self) -> None:
        """Forever: let everything else settle, then jump to the earliest timer and fire it."""
        while True:
            seen = self.changes
            await anyio.sleep(_SETTLE)  # real time: I/O and threads move on meanwhile
            if self.changes != seen:
                continue
            while self._heap and self._heap[0][1] not in self._due:
                heapq.heappop(self._heap)
            if not self._heap:
                continue
            self._now = max(self._now, self._heap[0][0])
            while self._heap and self._heap[0][0] <= self._now:
                fire = self._due.pop(heapq.heappop(self._heap)[1], None)
                if fire is not None:
                    self.changes += 1
                    fire()


class CountingClock(Clock):
    """``inner``'s time; ``waits`` counts the timed waits on it (``sleep``, ``move_on_after``)."""

    def __init__(self, inner: Clock | None = None) -> None:
        self.inner = inner or Clock()  # real time by default
        self.waits = 0

    def now(self) -> float:
        return self.inner.now()

    async def sleep(self, seconds: float) -> None:
        self.waits += 1
        await self.inner.sleep(seconds)

    def move_on_after(self, seconds: float) -> AbstractContextManager[anyio.CancelScope]:
        self.waits += 1
        return self.inner.move_on_after(seconds)


@contextlib.asynccontextmanager
async def virtual_time(*limiters: RateLimiter) -> AsyncIterator[VirtualClock]:
    """A running ``VirtualClock``, given to ``limiters`` (and so to their clients' pipelines)."""
    clock = VirtualClock()
    for limiter in limiters:
        limiter.clock = clock
    async with anyio.create_task_group() as tg:
        tg.start_soon(clock.run)
        yield clock
        tg.cancel_scope.cancel()


def granted(limiter: RateLimiter) -> list[float]:
    """Record the start of every slot ``limiter`` books (locally or in its shared store)."""
    starts: list[float] = []
    local = limiter._local
    take_now = local.take_now

    def recording_take_now(request: TakeRequest) -> Slot:
        slot = take_now(request)
        if slot.booked:
            starts.append(slot.start)
        return slot

    local.take_now = recording_take_now  # type: ignore[method-assign]
    store = limiter.store
    if store is not None:
        take = store.take

        async def recording_take(request: TakeRequest) -> Slot:
            slot = await take(request)
            if slot.booked:
                starts.append(slot.start)
            return slot

        store.take = recording_take  # type: ignore[method-assign]
    return starts
