"""Per-call costs of the limiter (issue 23): headers read when they change, free slots at once."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

import pytest

from lettr_async import RateLimitError
from lettr_async.ratelimit import Clock
from lettr_async.ratelimit._headers import MAX_LIMIT, HeaderReader
from lettr_async.ratelimit._limiter import SAFETY_FACTOR, Lane, RateLimiter
from tests.pacing import CountingClock


class _WallClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("announced", ["100001", "1000000", "1e30"])
def test_a_limit_above_the_bound_is_clamped_to_it_not_ignored(
    caplog: pytest.LogCaptureFixture, announced: str
) -> None:
    caplog.set_level(logging.WARNING, logger="lettr_async")
    limiter = RateLimiter(3)
    limiter.observe({"X-RateLimit-Limit": announced})
    assert limiter.info.limit == MAX_LIMIT
    assert limiter.interval == pytest.approx(SAFETY_FACTOR / MAX_LIMIT)
    assert not caplog.records


@pytest.mark.parametrize("announced", ["0", "0.5", "-3"])
def test_a_limit_below_one_is_still_ignored(announced: str) -> None:
    limiter = RateLimiter(3)
    limiter.observe({"X-RateLimit-Limit": announced})
    assert limiter.info.limit is None
    assert limiter.interval == pytest.approx(SAFETY_FACTOR / 3)


def test_the_same_headers_give_the_same_reading_without_parsing_again() -> None:
    clock = _WallClock()
    reader = HeaderReader(clock)
    headers = {
        "X-RateLimit-Limit": "10",
        "X-RateLimit-Remaining": "9",
        "X-RateLimit-Reset": "1700000001",
    }
    first = reader.read(headers)
    assert first == (10, 9, 1_700_000_001.0)
    clock.now += 0.5
    assert reader.read(dict(headers)) is first
    changed = reader.read({**headers, "X-RateLimit-Remaining": "8"})
    assert changed == (10, 8, 1_700_000_001.0)


def test_a_relative_reset_is_read_again_as_time_passes() -> None:
    clock = _WallClock()
    reader = HeaderReader(clock)
    assert reader.read({"X-RateLimit-Reset": "2"}) == (None, None, clock.now + 2)
    clock.now += 10
    assert reader.read({"X-RateLimit-Reset": "2"}) == (None, None, clock.now + 2)


def test_an_epoch_reset_stops_counting_a_day_after_it() -> None:
    clock = _WallClock()
    reader = HeaderReader(clock)
    headers = {"X-RateLimit-Reset": "1700000001"}
    assert reader.read(headers) == (None, None, 1_700_000_001.0)
    clock.now += 2 * 86_400
    assert reader.read(headers) == (None, None, None)


def test_a_reset_too_far_ahead_counts_once_it_is_within_a_day() -> None:
    clock = _WallClock()
    reader = HeaderReader(clock)
    headers = {"X-RateLimit-Reset": str(clock.now + 2 * 86_400)}
    assert reader.read(headers) == (None, None, None)
    clock.now += 86_400 + 1
    assert reader.read(headers) == (None, None, clock.now - 1 + 86_400)


def test_rate_limit_info_follows_the_last_values_and_keeps_missing_ones() -> None:
    limiter = RateLimiter(None)
    limiter.observe({"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4"})
    first = limiter.info
    assert (first.limit, first.remaining, first.reset) == (5, 4, None)
    assert limiter.info is first  # built once, when read
    reset = int(time.time()) + 2
    limiter.observe({"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": str(reset)})
    second = limiter.info
    assert (second.limit, second.remaining) == (5, 3)
    assert second.reset == datetime.fromtimestamp(reset, tz=timezone.utc)


class _Clock(Clock):
    """A clock that moves only when the test moves it (``t``)."""

    def __init__(self) -> None:
        self.t = 100.0

    def now(self) -> float:
        return self.t


@pytest.mark.anyio
async def test_a_free_slot_is_taken_at_once_and_the_next_one_still_waits() -> None:
    # take_free_now (the pipeline's fast path, issue 23) and acquire book the same slots.
    clock = _Clock()
    counting = CountingClock(clock)
    limiter = RateLimiter(3, clock=counting)
    limiter.observe({"X-RateLimit-Limit": "10"})
    assert limiter.take_free_now(Lane.INTERACTIVE)
    with pytest.raises(RateLimitError) as info:  # booked: the next slot is an interval away
        await limiter.acquire(Lane.INTERACTIVE, deadline=clock.t + 0.01)
    assert info.value.retry_after == pytest.approx(SAFETY_FACTOR / 10)
    clock.t += SAFETY_FACTOR / 10
    assert await limiter.acquire(Lane.INTERACTIVE, deadline=clock.t) == 0.0
    limiter.pause(1.0)  # a 429's pause is never skipped by the fast path
    with pytest.raises(RateLimitError):
        await limiter.acquire(Lane.INTERACTIVE, deadline=clock.t + 0.5)
    assert counting.waits == 0


def test_take_free_now_is_false_while_paused_and_true_without_pacing() -> None:
    clock = _Clock()
    limiter = RateLimiter(None, clock=clock)
    assert limiter.take_free_now(Lane.BULK)
    limiter.pause(1.0)
    assert not limiter.take_free_now(Lane.INTERACTIVE)
    clock.t += 1.0
    assert limiter.take_free_now(Lane.INTERACTIVE)


def test_take_free_now_leaves_bulk_and_unlearned_calls_to_acquire() -> None:
    limiter = RateLimiter(3, clock=_Clock())
    assert not limiter.take_free_now(Lane.INTERACTIVE)  # budget not learned yet
    limiter.observe({"X-RateLimit-Limit": "10"})
    assert not limiter.take_free_now(Lane.BULK)  # bulk queues in acquire
    assert limiter.take_free_now(Lane.INTERACTIVE)
    assert not limiter.take_free_now(Lane.INTERACTIVE)  # booked: the next is 0.103 s away
