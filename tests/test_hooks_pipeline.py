"""Hooks driven by the real request pipeline, against FakeLettr over loopback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from lettr_async import AsyncLettr, NotFoundError, RetryPolicy, ServerError, ValidationError
from lettr_async.contrib.opentelemetry import opentelemetry_hooks
from lettr_async.errors import APITimeoutError
from lettr_async.hooks import (
    CallEnd,
    Hooks,
    RateLimitWait,
    Request,
    Response,
    Retry,
    capture_response,
)
from lettr_async.testing import FakeLettr, Fault
from tests.helpers import recording_hooks
from tests.rawserver import LIST_BODY, Seen, raw_server, response

pytestmark = pytest.mark.anyio

FAST_RETRIES = RetryPolicy(backoff_initial=0.001, backoff_max=0.002)


def client_for(fake: FakeLettr, hooks: Hooks, **kwargs: Any) -> AsyncLettr:
    kwargs.setdefault("rate_limit", None)
    return AsyncLettr("lttr_test_key", base_url=fake.base_url, hooks=hooks, **kwargs)


async def test_a_successful_call(fake: FakeLettr) -> None:
    hook = fake.add_webhook(name="A", url="https://example.com/a")
    hooks, seen = recording_hooks()
    async with client_for(fake, hooks) as client:
        await client.webhooks.get(hook["id"])
    assert [type(r) for r in seen] == [Request, Response, CallEnd]
    response, end = seen[1], seen[2]
    assert (response.status_code, response.error_type, response.attempt) == (200, None, 1)
    assert end.call.path_template == "/webhooks/{id}"
    assert end.call.method == "GET"
    assert end.call.server_port == int(fake.base_url.rsplit(":", 1)[1].split("/")[0])
    assert end.request_id
    assert end.request_id == response.headers["X-Request-Id"]
    assert hook["id"] not in repr(seen)


@pytest.mark.parametrize("status", [200, 404])
async def test_the_request_id_is_read_as_errors_read_it(status: int) -> None:
    """A server that names it ``Request-Id`` (no ``X-``): records of a success carry it
    too, as the exception of a failure does."""
    body = LIST_BODY if status == 200 else b'{"message": "no such webhook"}'

    async def reply(seen: Seen) -> bytes:
        return response(status, body, headers={"Request-Id": "req-plain"})

    hooks, seen = recording_hooks()
    async with raw_server(reply) as server:
        client = AsyncLettr("lttr_test_key", base_url=server.base_url, hooks=hooks, rate_limit=None)
        async with client:
            with capture_response() as captured, contextlib.suppress(NotFoundError):
                await client.webhooks.list()
    assert [type(r) for r in seen] == [Request, Response, CallEnd]
    assert seen[1].request_id == seen[2].request_id == captured.request_id == "req-plain"


async def test_a_retried_call(fake: FakeLettr) -> None:
    hooks, seen = recording_hooks()
    fake.inject(Fault.status(503))
    async with client_for(fake, hooks, retry_policy=FAST_RETRIES) as client:
        await client.webhooks.list()
    assert [type(r) for r in seen] == [Request, Response, Retry, Request, Response, CallEnd]
    assert (seen[1].status_code, seen[1].error_type) == (503, "503")
    retry = seen[2]
    assert (retry.attempt, retry.error_type) == (1, "503")
    assert 0 <= retry.wait <= 0.01
    assert (seen[4].status_code, seen[4].attempt) == (200, 2)
    assert (seen[5].attempts, seen[5].status_code, seen[5].error_type) == (2, 200, None)


async def test_a_failed_call(fake: FakeLettr) -> None:
    hooks, seen = recording_hooks()
    fake.inject(Fault.status(503), times=3)
    async with client_for(fake, hooks, retry_policy=FAST_RETRIES) as client:
        with pytest.raises(ServerError):
            await client.webhooks.list()
    assert [type(r) for r in seen].count(Retry) == 2
    end = seen[-1]
    assert (end.attempts, end.status_code, end.error_type) == (3, 503, "503")


async def test_a_transport_failure(fake: FakeLettr) -> None:
    hooks, seen = recording_hooks()
    fake.inject(Fault.delay(5.0))
    async with client_for(fake, hooks, max_retries=0, timeout=0.1) as client:
        with pytest.raises(APITimeoutError):
            await client.webhooks.list()
    end = seen[-1]
    assert isinstance(end, CallEnd)
    assert (end.status_code, end.error_type) == (None, "APITimeoutError")


async def test_rate_limit_waits_are_reported(fake: FakeLettr) -> None:
    hooks, seen = recording_hooks()
    async with client_for(fake, hooks, rate_limit=5.0) as client:
        # queued together: the limiter spaces them 200 ms apart, whatever the load
        await asyncio.gather(*(client.webhooks.list() for _ in range(3)))
    waits = [r for r in seen if isinstance(r, RateLimitWait)]
    assert waits
    assert all(0 < w.wait < 5 for w in waits)
    assert {w.lane for w in waits} == {"interactive"}


async def test_a_raising_hook_does_not_break_calls(
    fake: FakeLettr, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(record: object) -> None:
        raise RuntimeError("bug in a metrics hook")

    hooks = Hooks(on_request=broken, on_response=broken, on_call_end=broken)
    with caplog.at_level(logging.ERROR, logger="lettr_async.hooks"):
        async with client_for(fake, hooks) as client:
            assert await client.webhooks.list() == []
            assert await client.webhooks.list() == []
    # one function registered for three events, failing six times: logged once
    assert len([r for r in caplog.records if r.name == "lettr_async.hooks"]) == 1


async def test_views_share_the_hooks(fake: FakeLettr) -> None:
    hooks, seen = recording_hooks()
    async with client_for(fake, hooks) as client:
        await client.with_options(timeout=5).webhooks.list()
    assert isinstance(seen[-1], CallEnd)


async def test_capture_response_without_hooks(fake: FakeLettr) -> None:
    async with AsyncLettr("lttr_test_key", base_url=fake.base_url, rate_limit=None) as client:
        with capture_response() as captured:
            await client.webhooks.create(
                name="Orders", url="https://example.com/o", auth_type="none", events_mode="all"
            )
        await client.webhooks.list()  # outside the block: not captured
    assert captured.status_code == 201
    assert captured.request_id
    assert "X-RateLimit-Limit" in captured.headers
    assert len(captured.calls) == 1


async def test_opentelemetry_end_to_end(fake: FakeLettr) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    fake.inject(Fault.status(502))
    hooks = opentelemetry_hooks(tracer_provider=provider)
    async with client_for(fake, hooks, retry_policy=FAST_RETRIES) as client:
        await client.webhooks.list()
    spans = exporter.get_finished_spans()
    provider.shutdown()
    assert [s.name for s in spans] == ["GET /webhooks", "GET /webhooks", "lettr GET /webhooks"]
    codes = [s.attributes["http.response.status_code"] for s in spans[:2] if s.attributes]
    assert codes == [502, 200]


def test_bad_hooks_are_a_validation_error() -> None:
    with pytest.raises(ValidationError) as info:
        AsyncLettr("lttr_x", hooks=[print])  # type: ignore[arg-type]
    assert "hooks" in info.value.errors


def test_the_sync_client_passes_hooks_and_captures(fake_thread: FakeLettr) -> None:
    import lettr_sync

    hooks, seen = recording_hooks()
    with lettr_sync.Lettr(
        "lttr_test_key", base_url=fake_thread.base_url, rate_limit=None, hooks=hooks
    ) as client:
        with capture_response() as captured:
            client.webhooks.list()
        client.with_options(timeout=5).webhooks.list()
    assert [type(r) for r in seen].count(CallEnd) == 2
    assert captured.status_code == 200
    assert captured.request_id
