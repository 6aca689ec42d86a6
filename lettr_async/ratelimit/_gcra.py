"""GCRA, the one pacing algorithm every store runs (in Python here, in Lua for Redis).

The state of one team is four numbers: the theoretical arrival time ``tat``
of the next free slot, the spacing ``interval`` in force (and whether it was
learned from the server), and ``paused_until`` after a 429. Taking a slot is
one pure function of that state and the store's clock (``take_slot``), so
the in-process and SQLite stores (and stores of your own: it is public)
share this code and the Redis Lua script mirrors it line for line. A state
whose times lie in the past is the same as no state, so nothing needs
cleaning up.

A shared state is not trusted: another process (an older version, a
peer allowed longer pauses, a hand-edited file) may have written it. Each
step first repairs what this caller could never have written (``repair``):
a time or interval that is not a finite number, a pause further ahead than
the caller's own ``max_pause``, a schedule more than ``MAX_AHEAD`` booked
ahead. So a poisoned state costs at most one pause of the caller's own
length, never an hour or forever.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import attrs

__all__ = [
    "CATCH_UP",
    "MAX_AHEAD",
    "PacingState",
    "Slot",
    "TakeRequest",
    "relearn",
    "repair",
    "take_if_free",
    "take_slot",
]

# A start at most this late behind its slot keeps the schedule instead of
# pushing every later slot back: event-loop timers fire a millisecond or so
# late, and restarting from "now" each time would lose ~10 % of a 100/s
# budget. Any k+1 starts stay at least ``k * interval - CATCH_UP`` apart,
# inside the 3 % margin the interval carries.
CATCH_UP = 0.005
# The furthest ahead a schedule may be booked (or a budget's spacing be):
# past it the state is corrupt, not busy. Five minutes are 900 slots at the
# 3/s default, beyond any real queue (calls with a timeout never book past
# it; bulk books one slot ahead); a clock jump or a bad write gets there.
MAX_AHEAD = 300.0


class PacingState(NamedTuple):
    """One team's pacing state, in the store's clock."""

    tat: float
    interval: float
    learned: bool
    paused_until: float


class Slot(NamedTuple):
    """The answer to one take: when the caller may start, and the budget in force."""

    wait: float
    """Seconds from now until the slot (booked) or until the next free one (not booked)."""
    booked: bool
    """True when the slot is the caller's; False when it must come back after ``wait``."""
    interval: float
    """Seconds between two starts at the team's current budget."""
    learned: bool
    """True when ``interval`` comes from the server's ``X-RateLimit-Limit``."""
    start: float
    """When the slot begins (booked) or the next one is free, on the store's clock."""
    repaired: bool = False
    """True when the stored state had to be repaired first (see ``repair``)."""


@attrs.frozen(kw_only=True)
class TakeRequest:
    """What one caller asks of a store's GCRA step: which slot, and what it learned.

    One value instead of five keyword arguments, so every store (in-process,
    SQLite, Redis, your own ``RateStore``) receives the same thing and the
    limiter builds it in one place. ``learned_interval`` and ``pause`` carry
    what this process learned since its last take, so every process sharing
    the state gets it.
    """

    reserve: bool
    """False (bulk): book only a slot that is free now, so it never holds a place
    ahead of an interactive call. True (interactive): book the next slot even in
    the future, unless it is more than ``max_wait`` seconds away."""
    max_wait: float | None
    """With ``reserve``: the furthest ahead, in seconds, a slot may be booked
    (None: no limit). Ignored without ``reserve``."""
    default_interval: float
    """Seconds between two starts for a team with no state yet (the configured
    budget, before the server announced one)."""
    learned_interval: float | None
    """A budget (seconds between starts) this process learned from the server's
    ``X-RateLimit-Limit`` since its last take; None (or not positive): nothing new."""
    pause: float
    """Seconds from now that a 429's ``Retry-After`` holds every process of the
    team, learned since the last take; 0: no new pause."""
    max_pause: float = 60.0
    """The longest pause this caller obeys (its client's ``max_pause``): a
    pause further ahead in the state, written by a peer allowed longer ones
    or by anything else, is cut to it."""


def take_slot(
    state: PacingState | None, now: float, request: TakeRequest
) -> tuple[PacingState, Slot]:
    """Take (or try to take) the next slot at ``now``; return the new state and the answer.

    ``request`` says whether to book ahead (``reserve``, within ``max_wait``)
    and carries the budget and pause this process learned since its last
    take (see ``TakeRequest``).
    """
    trusted = repair(state, now, request)
    repaired = state is not None and trusted != state
    state = trusted
    learned_interval = request.learned_interval
    if (
        learned_interval is not None
        and learned_interval > 0
        and (learned_interval != state.interval or not state.learned)
    ):
        state = relearn(state, now, learned_interval)  # not rebuilt for the budget in force
    tat, interval, learned, paused_until = state
    if request.pause > 0:
        paused_until = max(paused_until, now + min(request.pause, request.max_pause))
    free_at = max(tat, paused_until)
    wait = free_at - now
    max_wait = request.max_wait
    booked = wait <= 0 or (request.reserve and (max_wait is None or wait <= max_wait))
    if booked:
        # Keep the schedule when at most CATCH_UP late; otherwise restart it now.
        tat = (free_at if now - free_at <= CATCH_UP else now) + interval
    start = max(free_at, now) if booked else free_at
    return PacingState(tat, interval, learned, paused_until), Slot(
        wait, booked, interval, learned, start, repaired
    )


def take_if_free(state: PacingState | None, now: float, interval: float) -> PacingState | None:
    """The state after booking a slot free at ``now``, or None: ask ``take_slot``.

    The commonest step of an in-process limiter, without building a
    ``TakeRequest`` and a ``Slot``: for a state this process wrote itself
    (so ``repair`` has nothing to do), learned at ``interval``, and free now,
    the result is exactly the state ``take_slot`` leaves when booking with no
    new pause and the same learned interval.
    """
    if state is None:
        return None
    tat, state_interval, learned, paused_until = state
    if not learned or state_interval != interval:
        return None
    free_at = max(tat, paused_until)
    if not free_at <= now:
        return None
    # As in take_slot: keep the schedule when at most CATCH_UP late.
    return PacingState(
        (free_at if now - free_at <= CATCH_UP else now) + interval, interval, True, paused_until
    )


def repair(state: PacingState | None, now: float, request: TakeRequest) -> PacingState:
    """The state as this caller may trust it (None: a fresh one); see the module docstring."""
    if state is None:
        return PacingState(0.0, request.default_interval, False, 0.0)
    tat, interval, learned, paused_until = state
    if not 0 < interval <= max(MAX_AHEAD, request.default_interval):  # False for NaN too
        interval, learned = request.default_interval, False
    if not tat <= now + MAX_AHEAD or math.isinf(tat):  # NaN, inf, too far
        tat = 0.0
    paused_until = min(paused_until, now + request.max_pause) if paused_until >= 0 else 0.0
    return PacingState(tat, interval, bool(learned), paused_until)


def relearn(state: PacingState, now: float, interval: float) -> PacingState:
    """Adopt a budget the server announced; it applies from the last booked start."""
    tat = state.tat
    if interval != state.interval and tat > now:
        tat = max(now, tat - state.interval + interval)
    return PacingState(tat, interval, True, state.paused_until)
