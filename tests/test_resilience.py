"""Retries, Retry-After, timeouts, per-call options and the client-side limiter."""

from __future__ import annotations

import logging
import time
from email.utils import formatdate
from typing import Any

import pytest

from lettr_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncLettr,
    LettrError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from lettr_async._retry import parse_retry_after
from lettr_async.errors import ServerError as _ServerError
from lettr_async.hooks import Retry
from lettr_async.testing import FakeLettr, Fault
from tests.helpers import (
    API_KEY,
    FAST_RETRIES,
    closed_port,
    make_client,
    recording_hooks,
    requests_to,
)
from tests.pacing import granted, max_in_any_window, virtual_time

# Waits are simulated or a fraction of a second; 60 s means a hang.
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@pytest.mark.parametrize(
    "faults",
    [
        [Fault.status(503), Fault.status(502)],
        [Fault.status(504)],
        [Fault.drop(), Fault.drop()],
        [Fault.status(429, headers={"Retry-After": "0"})],
        [Fault.status(503, body="<html>down</html>", content_type="text/html")],
    ],
    ids=["503-502", "504", "dropped-twice", "429", "html-503"],
)
async def test_idempotent_calls_ride_through_transient_failures(
    fake: FakeLettr, faults: list[Fault]
) -> None:
    seeded = fake.add_webhook(name="A", url="https://example.com/a")
    async with make_client(fake) as client:
        for call in (
            lambda: client.webhooks.list(),
            lambda: client.webhooks.get(seeded["id"]),
            lambda: client.webhooks.update(seeded["id"], name="B"),
        ):
            fake.inject(*faults)
            await call()
    # Each of the three calls needed one attempt per fault plus the success.
    assert len(fake.requests) == 3 * (len(faults) + 1)


async def test_delete_is_retried(fake: FakeLettr) -> None:
    seeded = fake.add_webhook(name="A", url="https://example.com/a")
    fake.inject(Fault.status(503), method="DELETE")
    async with make_client(fake) as client:
        await client.webhooks.delete(seeded["id"])
    assert [r.status for r in fake.requests] == [503, 200]


async def test_retries_are_bounded_then_the_error_surfaces(fake: FakeLettr) -> None:
    fake.inject(Fault.status(503), Fault.status(503), Fault.status(503), Fault.status(503))
    async with make_client(fake, max_retries=2) as client:
        with pytest.raises(ServerError):
            await client.webhooks.list()
    assert len(fake.requests) == 3


@pytest.mark.parametrize("fault", [Fault.status(503), Fault.drop(), Fault.status(502)])
async def test_create_is_never_sent_twice(fake: FakeLettr, fault: Fault) -> None:
    fake.inject(fault, method="POST")
    async with make_client(fake, max_retries=5) as client:
        with pytest.raises((ServerError, APIConnectionError)):
            await client.webhooks.create(
                name="A", url="https://example.com/a", auth_type="none", events_mode="all"
            )
    assert len(requests_to(fake, "POST")) == 1


async def test_create_is_retried_when_it_never_left(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="lettr_async")
    client = AsyncLettr(
        API_KEY,
        base_url=f"http://127.0.0.1:{closed_port()}/api",
        rate_limit=None,
        retry_policy=FAST_RETRIES,
        max_retries=2,
    )
    async with client:
        with pytest.raises(APIConnectionError) as info:
            await client.webhooks.create(
                name="A", url="https://example.com/a", auth_type="none", events_mode="all"
            )
    assert info.value.request_sent is False
    assert "attempt 1 of 3 failed (APIConnectionError)" in caplog.text
    assert "attempt 2 of 3 failed (APIConnectionError)" in caplog.text


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
async def test_client_errors_are_never_retried(fake: FakeLettr, status: int) -> None:
    fake.inject(Fault.status(status), Fault.status(status))
    async with make_client(fake, max_retries=5) as client:
        with pytest.raises(LettrError):
            await client.webhooks.list()
    assert len(fake.requests) == 1


async def test_retries_are_logged_at_debug_with_attempt_and_reason(
    fake: FakeLettr, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="lettr_async")
    fake.inject(Fault.status(503))
    async with make_client(fake) as client:
        await client.webhooks.list()
    [record] = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert record.levelno == logging.DEBUG
    assert "GET /webhooks: attempt 1 of 3 failed (HTTP 503)" in record.getMessage()


async def test_per_call_timeout(fake: FakeLettr) -> None:
    fake.inject(Fault.delay(5))
    async with make_client(fake) as client:
        with pytest.raises(APITimeoutError):
            await client.webhooks.list(timeout=0.2, max_retries=0)
        # The pool recovers: the next call works.
        assert await client.webhooks.list() == []


async def test_a_timeout_bounds_the_whole_call_not_each_attempt(fake: FakeLettr) -> None:
    fake.inject(Fault.delay(5))
    async with make_client(fake, timeout=0.3, max_retries=5) as client:
        with pytest.raises(APITimeoutError) as info:
            await client.webhooks.list()
    # The one attempt used the whole budget: no second attempt got a fresh 0.3 s.
    assert info.value.attempts == 1
    assert info.value.elapsed is not None
    assert info.value.elapsed >= 0.3
    assert "1 attempt in" in str(info.value)
    assert len(fake.requests) == 1


async def test_per_call_max_retries_overrides_the_client(fake: FakeLettr) -> None:
    fake.inject(Fault.status(503), Fault.status(503))
    async with make_client(fake, max_retries=5) as client:
        with pytest.raises(ServerError):
            await client.webhooks.list(max_retries=0)
    assert len(fake.requests) == 1


async def test_with_options_shares_session_and_limiter(fake: FakeLettr) -> None:
    async with make_client(fake, max_retries=5) as client:
        strict = client.with_options(max_retries=0, timeout=3)
        assert (strict.max_retries, strict.timeout) == (0, 3.0)
        assert (client.max_retries, client.timeout) == (5, 30.0)
        assert strict._state is client._state
        await client.webhooks.list()
        fake.inject(Fault.status(503))
        with pytest.raises(ServerError):
            await strict.webhooks.list()
        await strict.webhooks.list()
    assert fake.connections_opened == 1
    assert strict.is_closed


def test_retry_after_wins_over_backoff_and_is_capped() -> None:
    policy = RetryPolicy(backoff_initial=0.5, backoff_max=8.0, max_retry_after=60.0)

    def decide(exc: BaseException, attempt: int = 1, rand: float = 0.5) -> float | None:
        return policy.decide(exc, attempt, max_retries=10, idempotent=True, rand=rand)

    assert decide(_ServerError("x", status_code=503, retry_after=7.0)) == 7.0
    assert decide(_ServerError("x", status_code=503, retry_after=9e9)) == 60.0
    assert decide(_ServerError("x", status_code=503, retry_after=float("inf"))) == 60.0
    for attempt in range(1, 8):
        for rand in (0.0, 0.5, 1.0):
            delay = decide(_ServerError("x", status_code=503), attempt, rand)
            assert delay is not None
            assert 0 <= delay <= min(8.0, 0.5 * 2 ** (attempt - 1))
    assert decide(_ServerError("x", status_code=503), 3, 1.0) == 2.0


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    future = parse_retry_after(formatdate(time.time() + 30, usegmt=True))
    assert future is not None
    assert 25 <= future <= 31
    assert parse_retry_after(formatdate(time.time() - 30, usegmt=True)) == 0.0


async def test_429_retry_after_pauses_the_whole_client(fake: FakeLettr) -> None:
    """On simulated time: the retry and the next call wait out Retry-After, exactly, no longer."""
    fake.inject(Fault.status(429, headers={"Retry-After": "30"}))
    async with (
        make_client(fake, timeout=None) as client,
        virtual_time(client._state.limiter) as clock,
    ):
        began = clock.now()
        await client.webhooks.list()
        retried = clock.now()
        await client.webhooks.list()
        ended = clock.now()
    assert [r.status for r in fake.requests] == [429, 200, 200]
    assert retried - began == pytest.approx(30.0)
    assert ended == retried  # the pause was over: the next call waits for nothing


@pytest.mark.parametrize("retry_after", ["86400", "1e400", "inf"])
async def test_a_huge_retry_after_is_capped_by_max_retry_after(
    fake: FakeLettr, retry_after: str
) -> None:
    fake.inject(Fault.status(429, headers={"Retry-After": retry_after}))
    policy = RetryPolicy(backoff_initial=0.01, backoff_max=0.05, max_retry_after=45.0)
    async with (
        make_client(fake, retry_policy=policy, timeout=None) as client,
        virtual_time(client._state.limiter) as clock,
    ):
        began = clock.now()
        await client.webhooks.list()
        took = clock.now() - began
    assert [r.status for r in fake.requests] == [429, 200]
    assert took == pytest.approx(45.0)


async def test_backoff_waits_grow_and_stay_under_their_ceilings(fake: FakeLettr) -> None:
    """Three 503s on simulated time: each wait is jittered under 1, 2, then 4 seconds."""
    fake.inject(Fault.status(503), Fault.status(503), Fault.status(503))
    policy = RetryPolicy(backoff_initial=1.0, backoff_max=8.0)
    hooks, seen = recording_hooks()
    async with (
        make_client(fake, retry_policy=policy, max_retries=3, timeout=None, hooks=hooks) as client,
        virtual_time(client._state.limiter) as clock,
    ):
        began = clock.now()
        await client.webhooks.list()
        took = clock.now() - began
    delays = [record.wait for record in seen if isinstance(record, Retry)]
    assert len(delays) == 3
    assert all(0 <= d <= ceiling for d, ceiling in zip(delays, (1.0, 2.0, 4.0), strict=True))
    assert took == pytest.approx(sum(delays))


async def test_a_retry_that_cannot_start_before_the_deadline_is_not_made(fake: FakeLettr) -> None:
    fake.inject(Fault.status(503, headers={"Retry-After": "20"}))
    async with (
        make_client(fake, timeout=10) as client,
        virtual_time(client._state.limiter) as clock,
    ):
        began = clock.now()
        with pytest.raises(ServerError) as info:
            await client.webhooks.list()
        took = clock.now() - began
    assert info.value.attempts == 1
    assert took < 1.0  # failed at once: no 20 s sleep that would end past the deadline
    assert len(fake.requests) == 1


async def test_rate_limit_info_is_exposed(fake: FakeLettr) -> None:
    fake.set_rate_limit(50)
    async with make_client(fake, rate_limit=50) as client:
        assert client.rate_limit == 50.0  # the configured budget, unchanged by headers
        assert client.rate_limit_info.limit is None
        await client.webhooks.list()
        info = client.rate_limit_info
        assert client.rate_limit == 50.0
    assert info.limit == 50
    assert info.remaining is not None
    assert 0 <= info.remaining < 50
    assert info.reset is not None
    assert info.reset.tzinfo is not None


async def test_limiter_fails_early_when_the_wait_exceeds_the_timeout(fake: FakeLettr) -> None:
    fake.set_rate_limit(1)
    async with make_client(fake, rate_limit=1) as client:
        await client.webhooks.list()
        with pytest.raises(RateLimitError) as info:
            await client.webhooks.list(timeout=0.2)
    assert info.value.error_code == "client_rate_limited"
    assert info.value.retry_after is not None
    assert info.value.retry_after > 0.2
    assert len(fake.requests) == 1


async def test_bulk_updates_at_20_per_second_never_exceed_the_limit(fake: FakeLettr) -> None:
    """End to end in real time: the limit learned from the fake, on the slots the limiter granted.

    The check is on the granted slot times, which the limiter computes
    from its clock before anyone sleeps: exact, so no margin is needed,
    however late a loaded machine wakes the tasks. What the server counts
    also depends on that jitter, so 429s the fake answers are only retried,
    not counted. 40 items (2 s at 20/s) cover windows in the middle of the
    run; the 200-slot concurrent schedule is checked on simulated time in
    tests/test_ratelimiter.py.
    """
    ids = [fake.add_webhook(name=f"w{i}", url=f"https://example.com/{i}")["id"] for i in range(40)]
    fake.set_rate_limit(20)
    async with make_client(fake, rate_limit=3) as client:
        starts = granted(client._state.limiter)
        result = await client.webhooks.update_many(
            {webhook_id: {"name": f"renamed-{webhook_id}"} for webhook_id in ids}
        )
    assert result.ok
    assert [o.key for o in result.outcomes] == ids
    assert all(o.value is not None and o.value.name == f"renamed-{o.key}" for o in result.outcomes)
    assert len([r for r in fake.requests if r.status != 429]) == 40
    assert len(starts) >= len(fake.requests)
    assert max_in_any_window(starts) <= 20


def test_max_in_any_window_counts_sliding_windows() -> None:
    assert max_in_any_window([0.0, 0.5, 0.99, 1.0, 1.2]) == 4
    assert max_in_any_window([0.0, 1.0, 2.0]) == 1


async def test_unused_kwargs_are_rejected_by_signature(fake: FakeLettr) -> None:
    async with make_client(fake) as client:
        bad: Any = {"colour": "red"}
        with pytest.raises(TypeError):
            await client.webhooks.update("webhook-x", **bad)
    assert fake.requests == []
