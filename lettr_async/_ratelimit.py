"""Client-side pacing to the team's request budget, with a priority lane.

Lettr allows a few requests per second per team and punishes bursts with
429s that lengthen the cool-down. One limiter per client (shared by every
task, every ``with_options`` view and every thread of the sync facade)
spaces requests evenly at the advertised rate, learns the rate from
``X-RateLimit-*`` headers, and pauses everything after a 429.

Why hand-written: the small async limiters on PyPI (aiolimiter, limits,
pyrate-limiter) pace one queue; we need a second, lower-priority lane so a
Django view's single ``get`` never waits behind a 500-item bulk job, a
fail-early check against the caller's timeout, and a budget that adapts to
response headers. The state is plain numbers, so the limiter is not bound to
an event loop and survives a client being reused from a new loop.
"""

from __future__ import annotations

import contextvars
import enum
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone

import anyio

from .errors import CLIENT_RATE_LIMITED, RateLimitError
from .models import RateLimitInfo

__all__ = ["Lane", "RateLimiter", "current_lane"]


class Lane(enum.IntEnum):
    """Priority of a request: interactive calls overtake bulk items."""

    INTERACTIVE = 0
    BULK = 1


current_lane: contextvars.ContextVar[Lane] = contextvars.ContextVar(
    "lettr_async_lane", default=Lane.INTERACTIVE
)
"""The lane of the running task; bulk workers set it to ``Lane.BULK``."""

# Space requests 3 % wider than 1/limit so that arrival jitter on the way to
# the server cannot squeeze limit + 1 requests into one second.
SAFETY_FACTOR = 1.03
# A Reset header further away than this is treated as clock skew.
MAX_RESET_WAIT = 1.5
# A timer that fires this late (at most) keeps the schedule instead of pushing
# every later slot back; 5 ms stays well inside the 3 % safety margin, so no
# one-second window can hold more than the limit (see ``acquire``).
MAX_CATCH_UP = 0.005
# Waiting bulk workers re-check at least this often: the budget may grow.
BULK_NAP = 0.05


class RateLimiter:
    """Even pacing at ``per_second`` requests, learned and paused by the server.

    ``per_second=None`` turns pacing off; a 429's ``Retry-After`` still
    pauses the client, because ignoring it only extends the cool-down.
    """

    def __init__(
        self,
        per_second: float | None,
        *,
        max_pause: float = 60.0,
        store: object | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from ._validation import check_rate_limit

        per_second = check_rate_limit(per_second)
        self.per_second = per_second
        self._max_pause = max_pause
        self._clock = clock
        self.pacing = per_second is not None
        self._interval = SAFETY_FACTOR / per_second if per_second else 0.0
        self._next_slot = 0.0
        self._last_start = 0.0
        self._paused_until = 0.0
        self.info = RateLimitInfo()

    @property
    def interval(self) -> float:
        """Seconds between two request starts at the current budget."""
        return self._interval

    def seconds_until_free(self) -> float:
        """How long an interactive request arriving now would wait."""
        ready = max(self._next_slot, self._paused_until) if self.pacing else self._paused_until
        return max(0.0, ready - self._clock())

    async def acquire(self, lane: Lane, *, deadline: float | None = None) -> float:
        """Wait for this request's slot.

        Interactive requests reserve the earliest slot at once (pushing
        bulk items back); bulk items take a slot only when one is free right
        now, so they never hold a place ahead of an interactive call. If an
        interactive wait would start after ``deadline`` (a ``clock()`` value),
        fail at once with ``RateLimitError`` instead of sleeping into a
        timeout. Returns the seconds waited.
        """
        began = self._clock()
        while True:
            now = self._clock()
            ready = max(self._next_slot, self._paused_until) if self.pacing else self._paused_until
            wait = ready - now
            if wait <= 0:
                self._take(now, ready)
                return now - began
            if lane is Lane.BULK:
                await anyio.sleep(min(wait, BULK_NAP))
                continue
            if deadline is not None and ready > deadline:
                raise RateLimitError(
                    f"client-side rate limit: the next free slot is {wait:.2f}s away, "
                    "beyond this call's timeout",
                    retry_after=wait,
                    status_code=429,
                    error_code=CLIENT_RATE_LIMITED,
                )
            if self.pacing:
                self._next_slot = ready + self._interval
                self._last_start = ready
            await anyio.sleep(wait)
            if self._paused_until <= ready:
                return self._clock() - began
            # A 429 arrived while we slept: our slot is void, queue again.

    def _take(self, now: float, ready: float) -> None:
        """Start a request now and book the next slot.

        Event-loop timers fire up to a millisecond late; restarting the
        schedule from ``now`` each time would lose ~10 % of a 100/s budget to
        that drift. A start at most ``MAX_CATCH_UP`` behind its slot keeps
        the schedule, which still spaces any k+1 starts at least
        ``k * interval - MAX_CATCH_UP`` apart: never more than the limit in
        one second, since ``interval`` carries the 3 % margin.
        """
        late = now - ready
        base = ready if 0 <= late <= MAX_CATCH_UP else now
        self._last_start = now
        self._next_slot = base + self._interval

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` (after a 429's Retry-After).

        Clamped to ``[0, max_pause]``; NaN counts as 0. Never raises.
        """
        if not seconds >= 0:
            seconds = 0.0
        seconds = min(seconds, self._max_pause)
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def aclose(self) -> None:
        """Release store resources (none for the in-memory limiter)."""

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn the budget from a response's ``X-RateLimit-*`` headers."""
        limit = _int_header(headers, "X-RateLimit-Limit")
        remaining = _int_header(headers, "X-RateLimit-Remaining")
        reset = _int_header(headers, "X-RateLimit-Reset")
        if limit is None and remaining is None and reset is None:
            return
        info = self.info
        self.info = RateLimitInfo(
            limit=limit if limit is not None else info.limit,
            remaining=remaining if remaining is not None else info.remaining,
            reset=_timestamp(reset) if reset is not None else info.reset,
        )
        if not self.pacing:
            return
        if limit is not None and limit > 0:
            interval = SAFETY_FACTOR / limit
            if interval < self._interval:
                # A bigger budget applies from the last start, not after the
                # slot booked at the smaller starting budget.
                self._next_slot = min(self._next_slot, self._last_start + interval)
            self._interval = interval
        if remaining == 0 and reset is not None:
            until_reset = reset - time.time()
            if 0 < until_reset <= MAX_RESET_WAIT:
                self._next_slot = max(self._next_slot, self._clock() + until_reset)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value))
    except (ValueError, OverflowError):
        return None


def _timestamp(seconds: int) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
