"""GCRA, the one pacing algorithm every store runs (in Python here, in Lua for Redis).

The state of one team is four numbers: the theoretical arrival time ``tat``
of the next free slot, the spacing ``interval`` in force (and whether it was
learned from the server), and ``paused_until`` after a 429. Taking a slot is
one pure function of that state and the store's clock, so the in-process
and SQLite stores share this code and the Redis Lua script mirrors it line
for line. A state whose times lie in the past is the same as no state, so
nothing needs cleaning up.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["CATCH_UP", "Slot", "State", "relearn", "take"]

# A start at most this late behind its slot keeps the schedule instead of
# pushing every later slot back: event-loop timers fire a millisecond or so
# late, and restarting from "now" each time would lose ~10 % of a 100/s
# budget. Any k+1 starts stay at least ``k * interval - CATCH_UP`` apart,
# inside the 3 % margin the interval carries.
CATCH_UP = 0.005


class State(NamedTuple):
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


def take(
    state: State | None,
    now: float,
    *,
    reserve: bool,
    max_wait: float | None,
    default_interval: float,
    learned_interval: float | None,
    pause: float,
) -> tuple[State, Slot]:
    """Take (or try to take) the next slot at ``now``; return the new state and the answer.

    ``reserve=False`` (bulk) books only a slot that is free now, so it never
    holds a place ahead of an interactive call; ``reserve=True``
    (interactive) books the next slot even in the future, unless it is more
    than ``max_wait`` seconds away. ``learned_interval`` and ``pause`` carry
    what this process learned since its last take (a new budget, a 429's
    pause in seconds) so every process sharing the state gets it.
    """
    if state is None:
        state = State(0.0, default_interval, False, 0.0)
    if learned_interval is not None and learned_interval > 0:
        state = relearn(state, now, learned_interval)
    tat, interval, learned, paused_until = state
    if pause > 0:
        paused_until = max(paused_until, now + pause)
    free_at = max(tat, paused_until)
    wait = free_at - now
    booked = wait <= 0 or (reserve and (max_wait is None or wait <= max_wait))
    if booked:
        # Keep the schedule when at most CATCH_UP late; otherwise restart it now.
        tat = (free_at if now - free_at <= CATCH_UP else now) + interval
    start = max(free_at, now) if booked else free_at
    return State(tat, interval, learned, paused_until), Slot(wait, booked, interval, learned, start)


def relearn(state: State, now: float, interval: float) -> State:
    """Adopt a budget the server announced; it applies from the last booked start."""
    tat = state.tat
    if interval != state.interval and tat > now:
        tat = max(now, tat - state.interval + interval)
    return State(tat, interval, True, state.paused_until)
