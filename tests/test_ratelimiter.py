"""The limiter's pacing invariant under late timers, on a simulated clock."""

from __future__ import annotations

import random

import pytest

from lettr_async import RateLimitError
from lettr_async._ratelimit import MAX_CATCH_UP, Lane, RateLimiter
from tests.test_resilience import _max_in_any_window

pytestmark = pytest.mark.anyio


class _SimulatedTime:
    """A clock that only moves when the limiter sleeps, each sleep a little late."""

    def __init__(self, seed: int, max_lateness: float) -> None:
        self.now = 1000.0
        self._random = random.Random(seed)
        self._max_lateness = max_lateness

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds) + self._random.uniform(0, self._max_lateness)


@pytest.mark.parametrize("limit", [3, 10, 20, 100])
@pytest.mark.parametrize("max_lateness", [0.0, 0.002, 0.02])
async def test_no_window_ever_holds_more_than_the_limit(
    monkeypatch: pytest.MonkeyPatch, limit: int, max_lateness: float
) -> None:
    sim = _SimulatedTime(seed=limit, max_lateness=max_lateness)
    monkeypatch.setattr("lettr_async._ratelimit.anyio.sleep", sim.sleep)
    limiter = RateLimiter(limit, clock=sim.clock)
    starts = []
    for n in range(limit * 20):
        await limiter.acquire(Lane.BULK if n % 3 else Lane.INTERACTIVE)
        starts.append(sim.now)
    assert _max_in_any_window(starts) <= limit
    if max_lateness <= MAX_CATCH_UP:
        # Timers a little late do not drift the schedule: it stays exact.
        assert starts[-1] - starts[0] <= (len(starts) - 1) * limiter.interval + max_lateness + 1e-6


async def test_learning_a_bigger_budget_applies_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = _SimulatedTime(seed=1, max_lateness=0.0)
    monkeypatch.setattr("lettr_async._ratelimit.anyio.sleep", sim.sleep)
    limiter = RateLimiter(3, clock=sim.clock)
    await limiter.acquire(Lane.BULK)
    limiter.observe({"X-RateLimit-Limit": "100"})
    assert limiter.seconds_until_free() == pytest.approx(1.03 / 100)
    assert limiter.info.limit == 100


async def test_pause_holds_every_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = _SimulatedTime(seed=2, max_lateness=0.0)
    monkeypatch.setattr("lettr_async._ratelimit.anyio.sleep", sim.sleep)
    limiter = RateLimiter(None, clock=sim.clock)
    start = sim.now
    await limiter.acquire(Lane.INTERACTIVE)
    assert sim.now == start  # pacing off: no wait
    limiter.pause(2.0)
    await limiter.acquire(Lane.BULK)
    assert sim.now - start >= 2.0
    limiter.pause(5.0)
    with pytest.raises(RateLimitError):
        await limiter.acquire(Lane.INTERACTIVE, deadline=sim.clock() + 1.0)
