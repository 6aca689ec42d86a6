"""Request timeouts of 5 s or more, kept by one timer per event loop, not one per request.

Why: a per-request aiohttp timeout schedules an asyncio timer for every
request and cancels it after, about 27k of the ~450k instructions a
``webhooks.get`` costs (``python -m benchmarks.instructions``; the bare
aiohttp floor pays it too). aiohttp fires a timeout of 5 s or more at the
first whole second of the loop's clock at or after the deadline; this watch
fires at exactly that moment, with one timer for every request in flight:
the timer is set for the earliest deadline and moved only when a request
with an earlier one arrives. Shorter timeouts keep aiohttp's exact timer.

When a deadline passes, the watch cancels the request's task; the request
code asks ``expired`` whether its ``CancelledError`` is that timeout. As
``asyncio.timeout`` does on Python 3.11+, the task is uncancelled and a
cancellation someone else requested meanwhile still propagates (Python
3.10 cannot tell the two apart: there, like aiohttp, the timeout wins).
"""

from __future__ import annotations

import asyncio
import math
import sys
from typing import Any

__all__ = ["CEIL_THRESHOLD", "DeadlineWatch"]

CEIL_THRESHOLD = 5.0
"""Timeouts from this many seconds on are rounded up to whole seconds (aiohttp's default)."""

_Task = asyncio.Task[Any]


if sys.version_info >= (3, 11):

    def _cancelling(task: _Task) -> int:
        """Cancellation requests pending on ``task``."""
        return task.cancelling()

    def _uncancel(task: _Task) -> int:
        """Withdraw one cancellation request; the number left."""
        return task.uncancel()

else:  # Python 3.10 does not count them

    def _cancelling(task: _Task) -> int:
        return 0

    def _uncancel(task: _Task) -> int:
        return 0


class DeadlineWatch:
    """The deadlines of the requests in flight on one event loop, and its one timer."""

    __slots__ = ("_expired", "_handle", "_tick_at", "_watched")

    def __init__(self) -> None:
        """Watch nothing yet; the timer is set by the first ``start``."""
        # task -> (deadline on the loop's clock, its cancellation requests at start)
        self._watched: dict[_Task, tuple[float, int]] = {}
        self._expired: set[_Task] = set()
        self._handle: asyncio.TimerHandle | None = None
        self._tick_at = math.inf

    def start(self, seconds: float) -> _Task | None:
        """Watch the running task for ``seconds``; None when it runs outside a task.

        The caller must end the watch with ``expired`` (on ``CancelledError``)
        or ``stop``, before its next ``start``.
        """
        task = asyncio.current_task()
        if task is None:
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        self._watched[task] = (deadline, _cancelling(task))
        when = math.ceil(deadline)
        if when < self._tick_at:
            self._schedule(loop, when)
        return task

    def expired(self, task: _Task) -> bool:
        """End the watch of ``task``, which caught ``CancelledError``: did its deadline do it?"""
        entry = self._watched.pop(task, None)
        if entry is None or task not in self._expired:
            return False
        self._expired.discard(task)
        return _uncancel(task) <= entry[1]

    def stop(self, task: _Task) -> None:
        """End the watch of a request that finished without catching ``CancelledError``."""
        self._watched.pop(task, None)
        if task in self._expired:  # cancelled, but the request swallowed it: withdraw
            self._expired.discard(task)
            _uncancel(task)

    def close(self) -> None:
        """Cancel the timer (the sessions it served are closing)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._tick_at = math.inf

    def _schedule(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._tick_at = when
        self._handle = loop.call_at(when, self._tick, loop)

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel every task whose deadline is due; set the timer for the next deadline."""
        now = self._tick_at  # the whole second this tick was set for, not loop.time()
        self._handle, self._tick_at = None, math.inf
        following = math.inf
        for task, (deadline, _) in self._watched.items():
            if deadline > now:
                following = min(following, deadline)
            elif task not in self._expired:
                self._expired.add(task)
                task.cancel()
        if following < math.inf:
            self._schedule(loop, math.ceil(following))
