"""The limiter on its own: pacing invariant, pauses, deadlines, headers, lanes, wake-ups."""

from __future__ import annotations

import contextlib
import logging
import math
import random
import time
from collections.abc import Iterator

import anyio
import anyio.lowlevel
import pytest

from lettr_async import AsyncLettr, RateLimitError, ValidationError
from lettr_async.ratelimit import Clock
from lettr_async.ratelimit._gcra import CATCH_UP
from lettr_async.ratelimit._limiter import Lane, RateLimiter
from lettr_async.testing import FakeLettr, Fault
from tests.helpers import make_client
from tests.pacing import CountingClock, granted, max_in_any_window, virtual_time

# Simulated time: nothing here waits for real; 30 s means a hang.
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


class _SimulatedTime(Clock):
    """One task's clock: it moves only when the limiter waits, each wake-up a little late."""

    def __init__(self, seed: int, max_lateness: float) -> None:
        self.now_value = 1000.0
        self._random = random.Random(seed)
        self._max_lateness = max_lateness

    def now(self) -> float:
        return self.now_value

    async def sleep(self, seconds: float) -> None:
        self.now_value += max(0.0, seconds) + self._random.uniform(0, self._max_lateness)

    @contextlib.contextmanager
    def move_on_after(self, seconds: float) -> Iterator[anyio.CancelScope]:
        # Nothing else runs: whatever the caller waits for does not come in time.
        self.now_value += max(0.0, seconds)
        with anyio.CancelScope() as scope:
            scope.cancel()
            yield scope


@pytest.fixture
def sim() -> _SimulatedTime:
    return _SimulatedTime(seed=7, max_lateness=0.0)


@pytest.mark.parametrize("limit", [3, 10, 20, 100])
@pytest.mark.parametrize("max_lateness", [0.0, 0.002, 0.02])
async def test_no_window_ever_holds_more_than_the_limit(limit: int, max_lateness: float) -> None:
    sim = _SimulatedTime(seed=limit, max_lateness=max_lateness)
    limiter = RateLimiter(3, clock=sim)
    limiter.observe({"X-RateLimit-Limit": str(limit)})
    starts = []
    for n in range(limit * 20):
        await limiter.acquire(Lane.BULK if n % 3 else Lane.INTERACTIVE)
        starts.append(sim.now_value)
    assert max_in_any_window(starts) <= limit
    if max_lateness <= CATCH_UP:
        # Timers a little late do not drift the schedule: it stays exact.
        assert starts[-1] - starts[0] <= (len(starts) - 1) * limiter.interval + max_lateness + 1e-6


async def test_learning_a_bigger_budget_applies_at_once(sim: _SimulatedTime) -> None:
    limiter = RateLimiter(3, clock=sim)
    await limiter.acquire(Lane.BULK)
    limiter.observe({"X-RateLimit-Limit": "100"})
    assert limiter.info.limit == 100
    # The slot booked at 3/s is re-timed at once: the next call waits one 100/s interval.
    assert await limiter.acquire(Lane.INTERACTIVE) == pytest.approx(1.03 / 100)


async def test_pause_holds_every_lane(sim: _SimulatedTime) -> None:
    limiter = RateLimiter(None, clock=sim)
    start = sim.now_value
    assert await limiter.acquire(Lane.INTERACTIVE) == 0.0
    limiter.pause(2.0)
    assert await limiter.acquire(Lane.BULK) == pytest.approx(2.0)
    assert sim.now_value - start >= 2.0


@pytest.mark.parametrize("pacing", [None, 3.0])
@pytest.mark.parametrize("retry_after", [86400.0, math.inf, float("1e400"), 1e308])
async def test_pause_is_capped_by_max_pause(
    sim: _SimulatedTime, pacing: float | None, retry_after: float
) -> None:
    limiter = RateLimiter(pacing, max_pause=60.0, clock=sim)
    limiter.observe({"X-RateLimit-Limit": "3"})
    start = sim.now_value
    limiter.pause(retry_after)
    await limiter.acquire(Lane.BULK)
    assert 59.0 <= sim.now_value - start <= 60.0 + 1e-6


@pytest.mark.parametrize("bad", [math.nan, -5.0, -math.inf])
async def test_pause_never_goes_negative(sim: _SimulatedTime, bad: float) -> None:
    limiter = RateLimiter(None, max_pause=60.0, clock=sim)
    limiter.pause(bad)
    assert 0.0 <= await limiter.acquire(Lane.INTERACTIVE) <= 1.0


@pytest.mark.parametrize("pacing", [None, 3.0])
async def test_acquire_fails_at_once_when_the_pause_outlasts_the_deadline(
    sim: _SimulatedTime, pacing: float | None
) -> None:
    limiter = RateLimiter(pacing, clock=sim)
    limiter.observe({"X-RateLimit-Limit": "3"})
    limiter.pause(30.0)
    before = sim.now_value
    with pytest.raises(RateLimitError) as info:
        await limiter.acquire(Lane.INTERACTIVE, deadline=sim.now_value + 5.0)
    assert sim.now_value == before  # no sleep at all
    assert info.value.error_code == "client_rate_limited"
    assert info.value.status_code == 429
    assert info.value.retry_after == pytest.approx(30.0)
    # A deadline the pause fits in waits it out.
    waited = await limiter.acquire(Lane.INTERACTIVE, deadline=sim.now_value + 31.0)
    assert waited == pytest.approx(30.0)


async def test_a_call_that_fails_early_does_not_hold_a_slot(sim: _SimulatedTime) -> None:
    limiter = RateLimiter(1, clock=sim)
    limiter.observe({"X-RateLimit-Limit": "1"})
    await limiter.acquire(Lane.INTERACTIVE)
    before = sim.now_value
    for _ in range(5):
        with pytest.raises(RateLimitError):
            await limiter.acquire(Lane.INTERACTIVE, deadline=sim.now_value + 0.5)
    assert sim.now_value == before
    # The next slot is still the one after the first call's, not five slots later.
    assert await limiter.acquire(Lane.INTERACTIVE) == pytest.approx(limiter.interval)


@pytest.mark.parametrize("value", [0, -1, math.nan, math.inf, True, "3"])
def test_a_bad_budget_is_a_validation_error_naming_rate_limit(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        AsyncLettr("lttr_x", rate_limit=value)  # type: ignore[arg-type]
    assert "rate_limit" in info.value.errors


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-RateLimit-Reset", str(int(time.time() * 1000))),  # milliseconds
        ("X-RateLimit-Reset", "1e400"),
        ("X-RateLimit-Reset", "-3"),
        ("X-RateLimit-Reset", "nan"),
        ("X-RateLimit-Limit", "inf"),
        ("X-RateLimit-Limit", "1e400"),
        ("X-RateLimit-Limit", "-10"),
        ("X-RateLimit-Limit", "0"),
        ("X-RateLimit-Limit", "nan"),
        ("X-RateLimit-Limit", "lots"),
        ("X-RateLimit-Remaining", "-1"),
        ("X-RateLimit-Remaining", "inf"),
        ("X-RateLimit-Remaining", "\x00"),
    ],
)
async def test_unusable_headers_are_ignored_and_logged_once(
    sim: _SimulatedTime, caplog: pytest.LogCaptureFixture, name: str, value: str
) -> None:
    caplog.set_level(logging.WARNING, logger="lettr_async")
    limiter = RateLimiter(3, clock=sim)
    limiter.observe({"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "2"})
    for _ in range(3):
        limiter.observe({name: value})
        await limiter.acquire(Lane.BULK)
    assert limiter.interval == pytest.approx(1.03 / 3)
    assert (limiter.info.limit, limiter.info.remaining, limiter.info.reset) == (3, 2, None)
    warnings = [r for r in caplog.records if name in r.getMessage()]
    assert len(warnings) == 1


def test_reset_is_read_as_epoch_or_seconds_from_now() -> None:
    limiter = RateLimiter(3)
    limiter.observe({"X-RateLimit-Reset": str(int(time.time()) + 2)})
    epoch = limiter.info.reset
    limiter.observe({"X-RateLimit-Reset": "2"})
    relative = limiter.info.reset
    assert epoch is not None
    assert relative is not None
    assert abs((relative - epoch).total_seconds()) <= 1.5


async def test_out_of_range_headers_never_break_a_call(fake: FakeLettr) -> None:
    millis = str(int(time.time() * 1000))
    fake.inject(
        Fault.status(503, headers={"X-RateLimit-Reset": millis, "X-RateLimit-Limit": "inf"}),
        Fault.status(503, headers={"X-RateLimit-Limit": "-4", "X-RateLimit-Remaining": "nan"}),
    )
    async with make_client(fake, rate_limit=50, max_retries=2) as client:
        assert await client.webhooks.list() == []
    assert [r.status for r in fake.requests] == [503, 503, 200]


async def test_bulk_waiters_sleep_once_each_not_in_a_polling_loop() -> None:
    clock = CountingClock()
    limiter = RateLimiter(3, clock=clock)
    limiter.observe({"X-RateLimit-Limit": "2000"})
    done: list[int] = []

    async def worker(items: list[int]) -> None:
        while items:
            item = items.pop()
            await limiter.acquire(Lane.BULK)
            done.append(item)

    items = list(range(100))
    async with anyio.create_task_group() as tg:
        for _ in range(16):
            tg.start_soon(worker, items)
    assert sorted(done) == list(range(100))
    # One timed sleep per item at most (the head's sleep until its slot); the
    # old limiter polled every 50 ms instead (~20 sleeps per item at 3/s).
    assert clock.waits <= 100


async def test_interactive_overtakes_a_queue_of_bulk_waiters() -> None:
    limiter = RateLimiter(3)
    limiter.observe({"X-RateLimit-Limit": "20"})

    async def bulk() -> None:
        await limiter.acquire(Lane.BULK)

    async with virtual_time(limiter) as clock, anyio.create_task_group() as tg:
        for _ in range(30):
            tg.start_soon(bulk)
        while len(limiter._queues[Lane.BULK]) < 28:
            await anyio.lowlevel.checkpoint()
        # 30 bulk items are queued (1.5 s of budget), yet the next slot is
        # the interactive call's: the deadline of two slots is met, decided
        # at once by the limiter (on simulated time: no load can delay it).
        await limiter.acquire(Lane.INTERACTIVE, deadline=clock.now() + 2 * limiter.interval)
        tg.cancel_scope.cancel()


async def test_cold_start_learns_the_budget_before_queueing(fake: FakeLettr) -> None:
    fake.set_rate_limit(100)
    seeded = fake.add_webhook(name="A", url="https://example.com/a")
    async with make_client(fake, rate_limit=3, timeout=5) as client:
        failures: list[BaseException] = []

        async def get() -> None:
            try:
                await client.webhooks.get(seeded["id"])
            except RateLimitError as exc:
                failures.append(exc)

        async with anyio.create_task_group() as tg:
            for _ in range(60):
                tg.start_soon(get)
    # At the default 3/s, 45 of these 60 would fail at once (20 s of slots
    # against a 5 s timeout); the first answer teaches the real budget. Real
    # time: at 100/s the 60 need 0.6 s, an 8x margin under the timeout.
    assert failures == []
    assert len(fake.requests) == 60 + fake.rate_limited_count
    assert client._state.limiter.info.limit == 100


@pytest.mark.parametrize("limit", [3, 20, 100])
async def test_concurrent_lanes_keep_the_granted_schedule_exact_on_simulated_time(
    limit: int,
) -> None:
    """200 slots to 8 bulk and 4 interactive tasks: the invariant, on the slots granted.

    Simulated time wakes every task exactly on time, so the schedule is
    checked as the limiter made it: no one-second window holds more than
    the limit, and no slot is skipped (200 starts span exactly 199 intervals).
    """
    limiter = RateLimiter(3)
    limiter.observe({"X-RateLimit-Limit": str(limit)})
    starts = granted(limiter)

    async def worker(lane: Lane, count: int) -> None:
        for _ in range(count):
            await limiter.acquire(lane)

    async with virtual_time(limiter) as clock:
        began = clock.now()
        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(worker, Lane.BULK, 20)
            for _ in range(4):
                tg.start_soon(worker, Lane.INTERACTIVE, 10)
        took = clock.now() - began
    assert len(starts) == 200
    assert max_in_any_window(starts) <= limit
    assert max(starts) - min(starts) == pytest.approx(199 * limiter.interval)
    assert took == pytest.approx(199 * limiter.interval)


async def test_the_virtual_clock_wakes_each_waiter_exactly_on_time() -> None:
    """The simulated time the schedule tests rely on: an hour of waits, exact, in milliseconds."""
    async with virtual_time(RateLimiter(None)) as clock:
        began = clock.now()
        woke: list[float] = []

        async def sleeper(seconds: float) -> None:
            await clock.sleep(seconds)
            woke.append(clock.now() - began)

        async with anyio.create_task_group() as tg:
            for seconds in (3600.0, 0.5, 60.0):
                tg.start_soon(sleeper, seconds)
        with clock.move_on_after(10.0) as scope:
            await anyio.Event().wait()
        ended = clock.now() - began
    assert woke == [0.5, 60.0, 3600.0]
    assert scope.cancelled_caught
    assert ended == 3610.0
