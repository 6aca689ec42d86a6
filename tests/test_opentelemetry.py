"""The OpenTelemetry adapter, fed with hook records and read with in-memory exporters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from lettr_async.contrib.opentelemetry import opentelemetry_hooks
from lettr_async.errors import APIConnectionError, error_for_status
from lettr_async.hooks import Hooks

BASE = "https://app.lettr.com:8443/api"


class Telemetry:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.hooks = opentelemetry_hooks(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider
        )

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def metrics(self) -> dict[str, list[Any]]:
        data = self.reader.get_metrics_data()
        assert data is not None
        found: dict[str, list[Any]] = {}
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found.setdefault(metric.name, []).extend(metric.data.data_points)
        return found


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    telemetry = Telemetry()
    yield telemetry
    telemetry.tracer_provider.shutdown()
    telemetry.meter_provider.shutdown()


def drive_retried_get(hooks: Hooks) -> None:
    tracker = hooks.start_call("GET", "/webhooks/webhook-abc", BASE)
    tracker.rate_limit_wait(1, 0.2, "interactive")
    tracker.request(1)
    failure = error_for_status(503, {"message": "down"}, {"X-Request-Id": "req-1"})
    tracker.response(1, error=failure)
    tracker.retry(1, 0.5, failure)
    tracker.request(2)
    tracker.response(2, status_code=200, headers={"X-Request-Id": "req-2"})
    tracker.end()


def test_one_call_span_with_a_client_span_per_attempt(otel: Telemetry) -> None:
    drive_retried_get(otel.hooks)
    spans = otel.finished()
    assert [s.name for s in spans] == [
        "GET /webhooks/{id}",
        "GET /webhooks/{id}",
        "lettr GET /webhooks/{id}",
    ]
    first, second, call = spans
    assert call.kind is SpanKind.INTERNAL
    assert {first.kind, second.kind} == {SpanKind.CLIENT}
    assert call.context is not None
    for attempt in (first, second):
        assert attempt.parent is not None
        assert attempt.parent.span_id == call.context.span_id
    assert first.attributes is not None
    assert second.attributes is not None
    assert dict(first.attributes) == {
        "http.request.method": "GET",
        "url.template": "/webhooks/{id}",
        "url.scheme": "https",
        "server.address": "app.lettr.com",
        "server.port": 8443,
        "http.response.status_code": 503,
        "error.type": "503",
        "lettr.request_id": "req-1",
    }
    assert first.status.status_code is StatusCode.ERROR
    assert second.attributes["http.request.resend_count"] == 1
    assert second.attributes["http.response.status_code"] == 200
    assert "error.type" not in second.attributes
    assert call.status.status_code is StatusCode.UNSET
    assert call.attributes is not None
    assert call.attributes["lettr.attempts"] == 2
    assert call.attributes["lettr.request_id"] == "req-2"
    events = {e.name: e.attributes for e in call.events}
    assert set(events) == {"lettr.rate_limit.wait", "lettr.retry"}
    assert events["lettr.retry"] is not None
    assert events["lettr.retry"]["lettr.retry.wait_s"] == 0.5
    assert events["lettr.retry"]["error.type"] == "503"
    limit = events["lettr.rate_limit.wait"]
    assert limit is not None
    assert limit["lettr.rate_limit.wait_s"] == 0.2


def test_metrics_for_attempts_calls_retries_and_limiter_waits(otel: Telemetry) -> None:
    drive_retried_get(otel.hooks)
    found = otel.metrics()
    attempts = found["http.client.request.duration"]
    assert sorted(p.attributes.get("http.response.status_code") for p in attempts) == [200, 503]
    assert all(p.count == 1 for p in attempts)
    assert all("webhook-abc" not in str(p.attributes) for p in attempts)
    (calls,) = found["lettr.client.call.duration"]
    assert calls.count == 1
    assert calls.attributes["url.template"] == "/webhooks/{id}"
    (retries,) = found["lettr.client.retries"]
    assert retries.value == 1
    assert retries.attributes["error.type"] == "503"
    (wait,) = found["lettr.client.rate_limit.wait"]
    assert wait.count == 1
    assert wait.sum == pytest.approx(0.2)
    assert wait.attributes["lettr.rate_limit.lane"] == "interactive"


def test_a_failed_call_marks_the_call_span_as_error(otel: Telemetry) -> None:
    tracker = otel.hooks.start_call("POST", "/webhooks", BASE)
    tracker.request(1)
    error = APIConnectionError("POST /webhooks failed: ServerDisconnectedError")
    tracker.response(1, error=error)
    tracker.end(error)
    attempt, call = otel.finished()
    assert attempt.attributes is not None
    assert call.attributes is not None
    assert attempt.attributes["error.type"] == "APIConnectionError"
    assert "http.response.status_code" not in attempt.attributes
    assert call.status.status_code is StatusCode.ERROR
    assert call.attributes["error.type"] == "APIConnectionError"


def test_an_attempt_cancelled_mid_flight_still_ends_its_span(otel: Telemetry) -> None:
    tracker = otel.hooks.start_call("DELETE", "/webhooks/x", BASE)
    tracker.request(1)
    cancelled = TimeoutError()
    tracker.end(cancelled)
    spans = otel.finished()
    assert [s.name for s in spans] == ["DELETE /webhooks/{id}", "lettr DELETE /webhooks/{id}"]


def test_concurrent_calls_keep_their_spans_apart(otel: Telemetry) -> None:
    a = otel.hooks.start_call("GET", "/webhooks/a", BASE)
    b = otel.hooks.start_call("GET", "/webhooks", BASE)
    a.request(1)
    b.request(1)
    b.response(1, status_code=200, headers={})
    a.response(1, status_code=200, headers={})
    b.end()
    a.end()
    spans = otel.finished()
    by_name = {(s.name, s.kind): s for s in spans}
    call_a = by_name[("lettr GET /webhooks/{id}", SpanKind.INTERNAL)]
    attempt_a = by_name[("GET /webhooks/{id}", SpanKind.CLIENT)]
    assert call_a.context is not None
    assert attempt_a.parent is not None
    assert attempt_a.parent.span_id == call_a.context.span_id
    assert len(spans) == 4
