"""The one place the limiter and the request pipeline read the time and wait.

Everything that schedules (pacing slots, 429 pauses, retry backoff,
``Retry-After``, the deadline of a call) asks a ``Clock``: ``now()`` to
read it, ``sleep()`` to wait on it and ``move_on_after()`` to bound a wait
for something else. The default is real time (``time.monotonic`` and
anyio's sleeps, which on asyncio read the same clock). A test hands the
limiter another clock (simulated time that jumps to the next wake-up as
soon as every task is waiting), and the pipeline takes it from the limiter,
so one object times a whole client and schedules are checked without
real waiting.

Waits on I/O (a store's answer, an HTTP response) are bounded in real
time by their owners: they measure the network, not the schedule.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager

import anyio

__all__ = ["REAL_TIME", "Clock"]


class Clock:
    """Real time; subclass it (all three methods) to run a client on another clock."""

    now = staticmethod(time.monotonic)
    """``now()``: seconds on a monotonic scale (only differences mean anything).

    ``time.monotonic`` itself, not a method wrapping it: the pipeline and the
    limiter read it several times per call.
    """

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (at once when not positive) on this clock."""
        await anyio.sleep(max(0.0, seconds))

    def move_on_after(self, seconds: float) -> AbstractContextManager[anyio.CancelScope]:
        """A scope that stops waiting after ``seconds`` on this clock, without raising."""
        return anyio.move_on_after(max(0.0, seconds))


REAL_TIME = Clock()
"""The clock of every client unless one is given."""
