"""The request pipeline: options, the pure retry decision, headers, pooling, lazy imports."""

from __future__ import annotations

import inspect
import logging
import subprocess
import sys
import time
import typing
from typing import Any

import anyio
import pytest

from lettr_async import (
    CLIENT_RATE_LIMITED,
    NOT_GIVEN,
    APIConnectionError,
    APITimeoutError,
    AsyncWebhooks,
    BadRequestError,
    NotFoundError,
    NotGiven,
    RateLimitError,
    RetryPolicy,
    ServerError,
    TLSCertificateError,
    ValidationError,
    WebhookCreateFields,
    WebhookUpdateFields,
)
from lettr_async._retry import parse_retry_after
from lettr_async._validation import CREATE_FIELDS, UPDATE_FIELDS
from lettr_async.testing import FakeLettr, Fault
from tests.helpers import make_client
from tests.rawserver import Seen, raw_server, response

pytestmark = pytest.mark.anyio

# -- RetryPolicy.decide: a pure function ---------------------------------------------

POLICY = RetryPolicy(backoff_initial=0.5, backoff_max=8.0, max_retry_after=60.0)


def _status(cls: type[Any], status: int, **kwargs: Any) -> Any:
    return cls("x", status_code=status, **kwargs)


@pytest.mark.parametrize(
    ("failure", "idempotent", "retried"),
    [
        (_status(ServerError, 503), True, True),
        (_status(ServerError, 503), False, False),
        (_status(ServerError, 500), True, False),
        (_status(RateLimitError, 429), False, True),  # a 429 was not processed: even a create
        (_status(RateLimitError, 429, error_code=CLIENT_RATE_LIMITED), True, False),
        (_status(BadRequestError, 400), True, False),
        (_status(NotFoundError, 404), True, False),
        (APIConnectionError("x", request_sent=False), False, True),
        (APIConnectionError("x", request_sent=True), False, False),
        (APIConnectionError("x", request_sent=True), True, True),
        (APITimeoutError("x"), True, True),
        (APITimeoutError("x"), False, False),
        (TLSCertificateError("x"), True, False),
        (ValidationError("x"), True, False),
        (RuntimeError("x"), True, False),
    ],
)
def test_which_failures_are_retried(failure: Any, idempotent: bool, retried: bool) -> None:
    delay = POLICY.decide(failure, 1, max_retries=3, idempotent=idempotent, rand=0.5)
    assert (delay is not None) is retried


def test_attempts_stop_after_max_retries() -> None:
    failure = _status(ServerError, 503)
    for attempt, expected in [(1, True), (2, True), (3, False)]:
        delay = POLICY.decide(failure, attempt, max_retries=2, idempotent=True, rand=0.0)
        assert (delay is not None) is expected
    assert POLICY.decide(failure, 1, max_retries=0, idempotent=True, rand=0.0) is None


def test_backoff_is_full_jitter_exponential_and_capped() -> None:
    failure = _status(ServerError, 503)

    def delay(attempt: int, rand: float) -> float | None:
        return POLICY.decide(failure, attempt, max_retries=999, idempotent=True, rand=rand)

    assert [delay(n, 1.0) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert delay(3, 0.0) == 0.0
    assert delay(3, 0.25) == 0.5
    assert delay(200, 1.0) == 8.0  # no OverflowError however many attempts


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [(7.0, 7.0), (0.0, 0.0), (1e9, 60.0), (float("inf"), 60.0), (float("nan"), 0.0)],
)
def test_retry_after_wins_and_is_capped(retry_after: float, expected: float) -> None:
    failure = _status(RateLimitError, 429, retry_after=retry_after)
    assert POLICY.decide(failure, 1, max_retries=1, idempotent=True, rand=1.0) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [("3", 3.0), ("-3", 0.0), ("inf", float("inf")), ("1e400", float("inf")), ("nan", None)],
)
def test_parse_retry_after_never_raises(header: str, expected: float | None) -> None:
    assert parse_retry_after(header) == expected
    assert parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now=0.0) is not None
    assert parse_retry_after("Mon, 99 Foo 2024 99:99:99 GMT") is None


@pytest.mark.parametrize("bad", [-1.0, float("inf"), float("nan"), "1", True])
def test_retry_policy_refuses_bad_settings(bad: Any) -> None:
    with pytest.raises(ValidationError) as info:
        RetryPolicy(max_retry_after=bad)
    assert "max_retry_after" in info.value.errors


# -- NOT_GIVEN and timeout=None ------------------------------------------------------------


def test_not_given_is_a_typed_falsy_singleton() -> None:
    assert NotGiven() is NOT_GIVEN
    assert not NOT_GIVEN
    assert repr(NOT_GIVEN) == "NOT_GIVEN"
    hints = typing.get_type_hints(AsyncWebhooks.list)
    assert hints["timeout"] == float | NotGiven | None
    assert inspect.signature(AsyncWebhooks.list).parameters["timeout"].default is NOT_GIVEN


async def test_timeout_none_means_no_timeout_per_call_and_in_views(fake: FakeLettr) -> None:
    fake.inject(Fault.delay(0.5), Fault.delay(0.5), Fault.delay(0.5))
    async with make_client(fake, timeout=0.2, max_retries=0) as client:
        assert await client.webhooks.list(timeout=None) == []
        assert await client.with_options(timeout=None).webhooks.list() == []
        with pytest.raises(APITimeoutError):
            await client.webhooks.list()  # NOT_GIVEN: the client's 0.2 s
    assert client.with_options(timeout=None).timeout is None
    assert client.with_options(max_retries=1).timeout == 0.2


# -- signatures and TypedDicts agree (the field list is defined once) ----------------------


def _keywords(method: Any) -> set[str]:
    params = inspect.signature(method).parameters.values()
    return {p.name for p in params if p.kind is p.KEYWORD_ONLY} - {"timeout", "max_retries"}


def test_create_and_update_signatures_match_the_item_typeddicts() -> None:
    assert _keywords(AsyncWebhooks.create) == set(WebhookCreateFields.__annotations__) | set(
        typing.get_type_hints(WebhookCreateFields)
    )
    assert _keywords(AsyncWebhooks.create) == CREATE_FIELDS
    assert _keywords(AsyncWebhooks.update) == set(typing.get_type_hints(WebhookUpdateFields))
    assert _keywords(AsyncWebhooks.update) == UPDATE_FIELDS


# -- headers, pooling ------------------------------------------------------------------------


async def test_default_headers_are_sent_and_cannot_replace_auth(fake: FakeLettr) -> None:
    async with make_client(
        fake, default_headers={"X-Team": "blue", "Authorization": "Bearer nope"}
    ) as client:
        await client.webhooks.list()
    (request,) = fake.requests
    assert request.headers["X-Team"] == "blue"
    assert request.headers["Authorization"] == "Bearer lttr_test_key"
    assert request.headers["User-Agent"].startswith("lettr-async/")


@pytest.mark.parametrize(("limit", "expected"), [(2, 2), (100, 6)])
async def test_connection_limit_bounds_the_pool(fake: FakeLettr, limit: int, expected: int) -> None:
    fake.inject(*[Fault.delay(0.3) for _ in range(6)])
    async with (
        make_client(fake, connection_limit=limit) as client,
        anyio.create_task_group() as group,
    ):
        for _ in range(6):
            group.start_soon(client.webhooks.list)
    assert len(fake.requests) == 6
    assert fake.connections_opened == expected


# -- the limiter as the pipeline drives it ---------------------------------------------------


async def test_remaining_zero_waits_for_the_reset() -> None:
    now = time.time()
    # A window end 0.3 to 1.3 s away: within what the limiter waits for.
    reset = int(now) + (1 if int(now) + 1 - now >= 0.3 else 2)
    arrivals: list[float] = []

    async def reply(seen: Seen) -> bytes | None:
        arrivals.append(time.time())
        headers = {
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "0" if len(arrivals) == 1 else "99",
            "X-RateLimit-Reset": str(reset),
        }
        return response(headers=headers)

    async with raw_server(reply) as server:
        from lettr_async import AsyncLettr

        async with AsyncLettr("lttr_test_key", base_url=server.base_url, rate_limit=100) as client:
            await client.webhooks.list()
            await client.webhooks.list()
    assert len(arrivals) == 2
    assert arrivals[0] < reset
    assert arrivals[1] >= reset - 0.005  # the second call waited for the new window


class _Saw429(logging.Handler):
    """Sets ``event`` when the pipeline logs a 429 (it pauses the limiter right after)."""

    def __init__(self, event: anyio.Event) -> None:
        super().__init__(logging.DEBUG)
        self.event = event

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.args, tuple) and 429 in record.args:
            self.event.set()


async def test_a_429_pauses_tasks_that_start_during_the_pause(fake: FakeLettr) -> None:
    fake.inject(Fault.status(429, headers={"Retry-After": "1"}))
    saw_429 = anyio.Event()
    handler = _Saw429(saw_429)
    log = logging.getLogger("lettr_async")
    log.addHandler(handler)
    old_level = log.level
    log.setLevel(logging.DEBUG)
    try:
        async with make_client(fake) as client, anyio.create_task_group() as group:
            group.start_soon(client.webhooks.list)
            with anyio.fail_after(10):
                await saw_429.wait()
            # The 429 was logged and the client paused in the same step: these
            # four calls start while the pause is on.
            for _ in range(4):
                group.start_soon(client.webhooks.list)
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
    first, *later = fake.requests
    assert first.status == 429
    assert len(later) == 5  # the retry and the four new calls
    # The pause began when the client read the 429, after the server sent it.
    assert all(r.received_at >= first.received_at + 1.0 for r in later)


# -- lazy imports ------------------------------------------------------------------------------


LAZY = """
import sys
import lettr_async
# Webhooks-as-code loads on first use (lettr_*.declarative, the CLI), not at import.
assert "lettr_async.declarative" not in sys.modules, "import lettr_async loaded declarative"
import lettr_sync
assert "lettr_async.declarative" not in sys.modules, "import lettr_sync loaded declarative"
assert "aiohttp" not in sys.modules, "import lettr_async must not load aiohttp"
assert "tenacity" not in sys.modules
client = lettr_async.AsyncLettr("lttr_x", base_url="http://127.0.0.1:9/api")
# Loaded at construction, outside any running loop, never on the first call.
assert "aiohttp" in sys.modules
print("ok")
"""


@pytest.mark.slow
def test_import_is_light_and_aiohttp_loads_at_construction_not_first_call() -> None:
    """`import lettr_async` (or lettr_sync) loads neither aiohttp nor webhooks-as-code."""
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", LAZY],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
