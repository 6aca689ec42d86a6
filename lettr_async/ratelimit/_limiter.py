"""``RateLimiter``: client-side pacing to the team's budget, with a priority lane.

Lettr allows a few requests per second per *team* and punishes bursts with
429s that lengthen the cool-down. One limiter per client (shared by every
task, every ``with_options`` view and every thread of the sync facade)
spaces requests evenly, learns the budget from ``X-RateLimit-*`` headers,
and pauses everything after a 429. With a shared ``RateStore`` (SQLite,
Redis) every process of the team paces to the same budget.

How a request gets its slot:

* Interactive calls (once the budget is known) book the next slot at once,
  even in the future, and sleep once until it; if that slot starts after the
  call's deadline they fail at once with ``client_rate_limited``.
* Bulk items queue in this process behind one another; only the head of the
  queue asks the store, and only for a slot at most one interval out, so
  bulk never holds more than the next place ahead of an interactive call
  (of any process). The head sleeps once until its slot and then hands
  over: each waiter wakes when the slot before its own starts, books, and
  sleeps once more, instead of polling.
* Cold start: until the server has told us its budget, one call goes first
  and the rest wait for its headers (or, at worst, for the default slot),
  so a burst is never committed to the 3/s default when the team has 100/s.

Why hand-written: the small async limiters on PyPI (aiolimiter, limits,
pyrate-limiter) pace one queue at a fixed rate; we need a second lane, a
fail-early deadline, a budget learned from headers and a store that falls
back when it is down. ``limits`` has a Redis GCRA-like "moving window" but no
lanes, no "when may I start" answer and no SQLite backend.
"""

from __future__ import annotations

import contextvars
import enum
import logging
import math
import time
from collections import deque
from collections.abc import Mapping
from datetime import datetime, timezone

import anyio

from ..errors import CLIENT_RATE_LIMITED, RateLimitError
from ..models import RateLimitInfo
from ._clock import REAL_TIME, Clock
from ._gcra import MAX_AHEAD, Slot, TakeRequest
from ._headers import HeaderReader, Reading
from ._store import STORE_FIRST_TIMEOUT, STORE_TIMEOUT, MemoryStore, RateStore

__all__ = ["Lane", "RateLimiter", "current_lane"]

logger = logging.getLogger("lettr_async")


class Lane(enum.IntEnum):
    """Priority of a request: interactive calls overtake bulk items."""

    INTERACTIVE = 0
    BULK = 1


current_lane: contextvars.ContextVar[Lane] = contextvars.ContextVar(
    "lettr_async_lane", default=Lane.INTERACTIVE
)
"""The lane of the running task; bulk workers set it to ``Lane.BULK``."""

# Space requests 3 % wider than 1/limit so that arrival jitter on the way to
# the server rarely squeezes limit + 1 requests into one second.
SAFETY_FACTOR = 1.03
# A Reset header further away than this (with Remaining 0) is treated as skew.
MAX_RESET_WAIT = 1.5
# A store operation's deadline (STORE_TIMEOUT, STORE_FIRST_TIMEOUT) is
# never more than this share of what is left of a call's timeout: a
# stalled store must not eat the budget of the request it paces.
STORE_SHARE = 0.25
# Before the budget is known, a waiter with a shared store re-reads it this often.
LEARN_POLL = 0.02
# While the store is down, one call per this many seconds tries it again.
STORE_RETRY_AFTER = 1.0


class RateLimiter:
    """Even pacing at ``per_second`` requests, learned from and paused by the server.

    ``per_second=None`` turns pacing off; a 429's ``Retry-After`` still
    pauses the client, because ignoring it only extends the cool-down.
    ``max_pause`` caps any pause (a ``Retry-After: 86400`` must not freeze
    the client for a day), whoever asks for it: a 429, or a store whose
    state says so. ``store`` shares the state between processes (None: this
    process only); its answers are checked, and one that could not come from
    an honest store counts as a failure of the store. ``clock`` (real time
    by default) times every wait of the limiter and of the pipeline that
    uses it; ``deadline`` values passed to ``acquire`` are on it.
    """

    def __init__(
        self,
        per_second: float | None,
        *,
        max_pause: float = 60.0,
        store: RateStore | None = None,
        clock: Clock = REAL_TIME,
    ) -> None:
        """Start with nothing learned; ``AsyncLettr`` has validated both numbers."""
        self.per_second = per_second
        self.max_pause = max_pause
        self.pacing = per_second is not None
        self._known: Reading = (None, None, None)
        self._info: RateLimitInfo | None = None
        self._last_reading: Reading | None = None
        self.clock = clock
        """Where the limiter and its client's pipeline read the time and wait
        (read at each use: a test may swap it before the first call)."""
        self._default_interval = SAFETY_FACTOR / per_second if per_second else 0.0
        self.interval = self._default_interval
        """Seconds between two request starts at the current budget."""
        self._learned = False
        self._paused_until = 0.0
        self._local = store if isinstance(store, MemoryStore) else MemoryStore(self._clock)
        self.store = None if isinstance(store, MemoryStore) else store
        """The shared store, or None when the state lives in this process."""
        self._share_interval: float | None = None
        self._share_pause_until = 0.0
        self._store_retry_at: float | None = None
        self._store_answered = False
        self._headers = HeaderReader()
        self._warned_429 = False
        self._warned_repair = False
        self._queues: tuple[deque[anyio.Event], deque[anyio.Event]] = (deque(), deque())
        self._head_busy = False
        self._learn_waiters: list[anyio.Event] = []

    def _clock(self) -> float:
        return self.clock.now()

    # -- acquire -------------------------------------------------------------------

    async def acquire(self, lane: Lane, *, deadline: float | None = None) -> float:
        """Wait for this request's slot; return the seconds waited.

        ``deadline`` is a value of the clock: if the slot (pacing or a 429
        pause) would start after it, raise ``RateLimitError`` with
        ``error_code="client_rate_limited"`` at once, without sleeping and
        without holding a slot.
        """
        began = self._clock()
        while True:
            if not self.pacing:
                start = self._paused_until
                self._check_deadline(start - self._clock(), deadline)
            elif lane is Lane.INTERACTIVE and self._learned:
                start = await self._book(deadline)
            else:
                start = await self._book_in_queue(lane, deadline)
            wait = start - self._clock()
            if wait > 0:
                await self.clock.sleep(wait)
            if self._paused_until <= start:
                return max(0.0, self._clock() - began)
            # A 429 arrived while we waited: that slot is void, queue again.

    def take_free_now(self, lane: Lane) -> bool:
        """Start now if nothing holds this request: True books its slot, False means ``acquire``.

        The common case without a coroutine (the pipeline asks this first):
        no pause and no pacing, or an interactive call whose in-process slot
        is free now.
        """
        if self._paused_until > self.clock.now():
            return False
        if not self.pacing:
            return True
        return (
            self.store is None
            and lane is Lane.INTERACTIVE
            and self._learned
            and self._local.take_if_free(self.interval)
        )

    async def _book(self, deadline: float | None) -> float:
        """Book the next slot (interactive); return when it starts, on the local clock."""
        max_wait = None if deadline is None else deadline - self._clock()
        slot = await self._take(reserve=True, max_wait=max_wait, deadline=deadline)
        now = self._clock()
        if not slot.booked:
            self._check_deadline(slot.wait, deadline)
        return now + max(0.0, slot.wait)

    async def _book_in_queue(self, lane: Lane, deadline: float | None) -> float:
        """Wait to be the head of this process's queue, then book a slot at most one interval out.

        The head sleeps until its slot while still head, so the next waiter
        wakes exactly when the slot before its own starts, books the next one
        (one interval out) and sleeps once. Booking at most one interval
        ahead keeps bulk from holding places ahead of interactive calls, in
        any process: an interactive call is never more than two slots away.
        Before the budget is learned, only a slot free now is taken.
        """
        await self._become_head(lane, deadline)
        try:
            while True:
                if lane is Lane.INTERACTIVE and self._learned:
                    return await self._book(deadline)
                lookahead = self.interval if self._learned else 0.0
                slot = await self._take(reserve=True, max_wait=lookahead, deadline=deadline)
                now = self._clock()
                if slot.booked:
                    if slot.wait > 0:
                        await self.clock.sleep(slot.wait)
                    return now + max(0.0, slot.wait)
                if lane is Lane.INTERACTIVE:
                    if self._learned:
                        continue  # the store just taught us the budget: book as interactive
                    self._check_deadline(slot.wait, deadline)
                if self._learned:
                    # Wake when the slot is well inside the lookahead, not at its edge.
                    await self.clock.sleep(slot.wait - lookahead / 2)
                else:
                    await self._sleep_until_learned(slot.wait)
        finally:
            self._hand_over()

    async def _become_head(self, lane: Lane, deadline: float | None) -> None:
        if not self._head_busy and not any(self._queues):
            self._head_busy = True
            return
        turn = anyio.Event()
        self._queues[lane].append(turn)
        try:
            if lane is Lane.INTERACTIVE and deadline is not None:
                with self.clock.move_on_after(deadline - self._clock()):
                    await turn.wait()
                if not turn.is_set():
                    self._check_deadline(math.inf, deadline)
            else:
                await turn.wait()
        except BaseException:
            if turn.is_set():
                self._hand_over()  # our turn came as we left: pass it on
            else:
                self._queues[lane].remove(turn)
            raise

    def _hand_over(self) -> None:
        for queue in self._queues:
            if queue:
                queue.popleft().set()
                return
        self._head_busy = False

    async def _sleep_until_learned(self, seconds: float) -> None:
        """Sleep until the budget is learned (the first answer's headers) or ``seconds``.

        With a shared store another process may learn it first: look again
        every ``LEARN_POLL`` seconds rather than sleep out the default slot.
        """
        if self.store is not None:
            seconds = min(seconds, LEARN_POLL)
        learned = anyio.Event()
        self._learn_waiters.append(learned)
        try:
            with self.clock.move_on_after(seconds):
                await learned.wait()
        finally:
            if learned in self._learn_waiters:
                self._learn_waiters.remove(learned)

    def _check_deadline(self, wait: float, deadline: float | None) -> None:
        if deadline is None or wait <= 0 or self._clock() + wait <= deadline:
            return
        remaining = max(0.0, deadline - self._clock())
        shown = "an unknown time" if math.isinf(wait) else f"{wait:.2f}s"
        raise RateLimitError(
            f"client-side rate limit: the next free slot is {shown} away, beyond this "
            f"call's timeout ({remaining:.2f}s left)",
            retry_after=None if math.isinf(wait) else wait,
            status_code=429,
            error_code=CLIENT_RATE_LIMITED,
        )

    # -- the store -------------------------------------------------------------------

    async def _take(self, *, reserve: bool, max_wait: float | None, deadline: float | None) -> Slot:
        """One GCRA step in the shared store, or in-process while it is unusable.

        The store gets at most ``STORE_SHARE`` of what is left until
        ``deadline`` (a call's): past it, this request is paced locally and sent.
        """
        store = self.store
        now = self._clock()
        if store is not None and (self._store_retry_at is None or now >= self._store_retry_at):
            probing = self._store_retry_at is not None
            if probing:
                # Probing a store that was down: the others keep pacing locally meanwhile.
                self._store_retry_at = now + STORE_RETRY_AFTER
            share_interval = self._share_interval
            limit = STORE_TIMEOUT if self._store_answered else STORE_FIRST_TIMEOUT
            if deadline is not None:
                limit = min(limit, max(0.0, STORE_SHARE * (deadline - now)))
            try:
                # Real time: this bounds the store's I/O, not the schedule.
                with anyio.fail_after(limit):
                    slot = await store.take(
                        TakeRequest(
                            reserve=reserve,
                            max_wait=max_wait,
                            default_interval=self._default_interval,
                            learned_interval=share_interval,
                            pause=max(0.0, self._share_pause_until - now),
                            max_pause=self.max_pause,
                        )
                    )
                self._check_answer(slot, reserve=reserve, max_wait=max_wait)
            except Exception as exc:
                self._store_failed(exc)
            else:
                self._store_answered = True
                if probing:
                    logger.warning("rate-limit store is back: sharing the team's budget again")
                    self._store_retry_at = None
                if self._share_interval == share_interval:
                    self._share_interval = None
                self._share_pause_until = 0.0
                if slot.repaired and not self._warned_repair:
                    self._warned_repair = True
                    logger.warning(
                        "rate-limit store held a state this client cannot trust (a pause beyond "
                        "its max_pause of %.0fs, or a schedule that is not a finite time in the "
                        "next %.0fs): repaired it",
                        self.max_pause,
                        MAX_AHEAD,
                    )
                if slot.learned:
                    self._learn(slot.interval, share=False)
                return slot
        return self._local.take_now(
            TakeRequest(
                reserve=reserve,
                max_wait=max_wait,
                default_interval=self._default_interval,
                learned_interval=self.interval if self._learned else None,
                pause=max(0.0, self._paused_until - now),
                max_pause=self.max_pause,
            )
        )

    def _check_answer(self, slot: Slot, *, reserve: bool, max_wait: float | None) -> None:
        """Raise ``ValueError`` for a slot no honest store gives this request (see ``repair``).

        An honest store repairs its state with this client's ``max_pause``
        before the step, so it never answers a wait beyond that pause or
        ``MAX_AHEAD``, nor books a slot past ``max_wait``.
        """
        wait, interval = slot.wait, slot.interval
        if not (
            math.isfinite(wait)
            and wait <= max(MAX_AHEAD, self.max_pause) + interval
            and 0 < interval <= max(MAX_AHEAD, self._default_interval)
            and math.isfinite(slot.start)
            and not (slot.booked and reserve and max_wait is not None and wait > max(0.0, max_wait))
        ):
            raise ValueError("the rate-limit store answered an impossible slot")

    def _store_failed(self, exc: Exception) -> None:
        if self._store_retry_at is None:
            # The type only: messages of some clients carry host names or URLs.
            logger.warning(
                "rate-limit store unusable (%s): pacing in this process only, so several "
                "processes may together exceed the team's budget; retrying every %.0fs",
                type(exc).__name__,
                STORE_RETRY_AFTER,
            )
        self._store_retry_at = self._clock() + STORE_RETRY_AFTER

    def _learn(self, interval: float, *, share: bool) -> None:
        if interval != self.interval or not self._learned:
            self.interval = interval
            self._learned = True
            self._local.learn(interval)
            if share:
                self._share_interval = interval
        waiters, self._learn_waiters = self._learn_waiters, []
        for waiter in waiters:
            waiter.set()

    # -- what the server says ------------------------------------------------------------

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn from ``X-RateLimit-*``; never raises: ``HeaderReader`` drops unusable values."""
        reading = self._headers.read(headers)
        limit, remaining, reset = reading
        if reading is not self._last_reading:  # the reader repeats its tuple for equal headers
            self._last_reading = reading
            known = self._known
            self._known = (
                limit if limit is not None else known[0],
                remaining if remaining is not None else known[1],
                reset if reset is not None else known[2],
            )
            self._info = None
        if not self.pacing:
            return
        if limit is not None:
            interval = SAFETY_FACTOR / limit
            # Most answers repeat the budget in force: nothing to learn, nobody to wake.
            if interval != self.interval or not self._learned or self._learn_waiters:
                self._learn(interval, share=True)
        if remaining == 0 and reset is not None:
            until_reset = reset - time.time()
            if 0 < until_reset <= MAX_RESET_WAIT:
                self._hold(until_reset)

    @property
    def info(self) -> RateLimitInfo:
        """The last ``X-RateLimit-*`` values the server sent, built when read (not per response)."""
        if self._info is None:
            limit, remaining, reset = self._known
            # Always in range: the reader keeps only resets within a day of now.
            when = None if reset is None else datetime.fromtimestamp(reset, tz=timezone.utc)
            self._info = RateLimitInfo(limit=limit, remaining=remaining, reset=when)
        return self._info

    def pause(self, seconds: float) -> None:
        """Hold every request after a 429, for ``seconds`` clamped to [0, max_pause] (NaN: 0).

        The pipeline passes ``RetryPolicy.cap_retry_after``'s answer, already clamped.
        """
        self._hold(min(max(0.0, seconds), self.max_pause))
        if self.pacing and self.store is None and not self._warned_429:
            self._warned_429 = True
            logger.warning(
                "Lettr answered 429 although this client paces its requests: another process "
                "is probably using the same team's budget. Share it with "
                "AsyncLettr(rate_limit_store='sqlite:///path/budget.db' or 'redis://host:6379/0') "
                "or the LETTR_RATE_LIMIT_URL environment variable."
            )

    def _hold(self, seconds: float) -> None:
        until = self._clock() + seconds
        if until > self._paused_until:
            self._paused_until = until
            self._share_pause_until = max(self._share_pause_until, until)

    async def aclose(self) -> None:
        """Release the store's connections; the client calls it from its ``aclose()``."""
        if self.store is None:
            return
        try:
            with anyio.fail_after(STORE_TIMEOUT):
                await self.store.aclose()
        except Exception as exc:
            logger.debug("closing the rate-limit store failed (%s)", type(exc).__name__)
