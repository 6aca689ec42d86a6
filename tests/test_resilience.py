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
from lettr_async._ratelimit import Lane
from lettr_async._retry import parse_retry_after
from lettr_async.errors import ServerError as _ServerError
from lettr_async.testing import FakeLettr, Fault
from tests.helpers import API_KEY, FAST_RETRIES, closed_port, make_client, requests_to
from tests.pacing import max_in_any_window

pytestmark = pytest.mark.anyio


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
    fake.inject(Fault.status(429, headers={"Retry-After": "1"}))
    async with make_client(fake) as client:
        await client.webhooks.list()
        await client.webhooks.list()
    first, retry, second = fake.requests
    assert first.status == 429
    assert retry.received_at - first.received_at >= 0.9
    assert second.received_at >= retry.received_at


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


async def test_200_updates_at_20_per_second_never_exceed_the_limit(fake: FakeLettr) -> None:
    """The client's guarantee: no one-second window of its send times holds more than the limit.

    Send times are recorded by the client (when the limiter lets a request
    go), not by the server: arrival jitter on a loaded machine is outside
    the client's control, and a sliding window is stricter than the fixed
    windows Lettr (and FakeLettr) count, so this also bounds what the
    server sees up to that jitter.
    """
    ids = [fake.add_webhook(name=f"w{i}", url=f"https://example.com/{i}")["id"] for i in range(200)]
    fake.set_rate_limit(20)
    async with make_client(fake, rate_limit=3) as client:
        limiter = client._state.limiter
        sent: list[float] = []
        acquire = limiter.acquire

        async def recording_acquire(lane: Lane, *, deadline: float | None = None) -> float:
            waited = await acquire(lane, deadline=deadline)
            sent.append(time.monotonic())
            return waited

        limiter.acquire = recording_acquire  # type: ignore[method-assign]
        result = await client.webhooks.update_many(
            {webhook_id: {"name": f"renamed-{webhook_id}"} for webhook_id in ids}
        )
    assert result.ok
    assert [o.key for o in result.outcomes] == ids
    assert all(o.value is not None and o.value.name == f"renamed-{o.key}" for o in result.outcomes)
    assert len([r for r in fake.requests if r.status != 429]) == 200
    assert len(sent) == len(fake.requests)
    assert max_in_any_window(sent) <= 20


def test_max_in_any_window_counts_sliding_windows() -> None:
    assert max_in_any_window([0.0, 0.5, 0.99, 1.0, 1.2]) == 4
    assert max_in_any_window([0.0, 1.0, 2.0]) == 1


async def test_unused_kwargs_are_rejected_by_signature(fake: FakeLettr) -> None:
    async with make_client(fake) as client:
        bad: Any = {"colour": "red"}
        with pytest.raises(TypeError):
            await client.webhooks.update("webhook-x", **bad)
    assert fake.requests == []
