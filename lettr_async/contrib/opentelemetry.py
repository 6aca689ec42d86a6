"""OpenTelemetry tracing and metrics for every Lettr call, as a ``Hooks`` consumer.

Install with ``pip install 'lettr-async[otel]'`` (only ``opentelemetry-api``
is required; your application configures the SDK and exporters) and pass the
hooks to the client::

    from lettr_async.contrib.opentelemetry import opentelemetry_hooks

    client = AsyncLettr(hooks=opentelemetry_hooks())

What it records, following OpenTelemetry's HTTP client semantic conventions:

* One ``INTERNAL`` span per logical call (``lettr GET /webhooks/{id}``), child
  of whatever span is current when the call starts, with a ``CLIENT`` child
  span per attempt (``GET /webhooks/{id}``) carrying ``http.request.method``,
  ``url.template``, ``server.address``, ``server.port``,
  ``http.response.status_code``, ``http.request.resend_count`` on retries,
  ``error.type`` and Lettr's request id. Retries and rate-limit waits are
  events on the call span (``lettr.retry``, ``lettr.rate_limit.wait``).
* Metrics: ``http.client.request.duration`` (per attempt, seconds),
  ``lettr.client.call.duration`` (per logical call, seconds),
  ``lettr.client.retries`` (counter) and ``lettr.client.rate_limit.wait``
  (seconds the client-side limiter held a request).

Ids never go into span names or metric attributes (``url.template`` instead),
and nothing secret is recorded: the hook records carry no key or body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

try:
    from opentelemetry import metrics, trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ModuleNotFoundError as missing:  # a core install: say which extra brings it
    if not (missing.name or "").startswith("opentelemetry"):
        raise
    raise ImportError(
        f"lettr_async.contrib.opentelemetry needs OpenTelemetry ({missing.name} is not "
        "installed): pip install 'lettr-async[otel]'",
        name=missing.name,
    ) from None

from lettr_async._version import __version__
from lettr_async.hooks import CallEnd, CallInfo, Hooks, RateLimitWait, Request, Response, Retry

if TYPE_CHECKING:
    from opentelemetry.util.types import AttributeValue

__all__ = ["INSTRUMENTATION_NAME", "opentelemetry_hooks"]

INSTRUMENTATION_NAME = "lettr_async"
"""The tracer and meter name: filter or configure views by it."""

# Buckets advised by the HTTP semantic conventions for request durations.
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)


def _base_attributes(call: CallInfo) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {
        "http.request.method": call.method,
        "url.template": call.path_template,
        "server.address": call.server_address,
    }
    if call.server_port is not None:
        attributes["server.port"] = call.server_port
    return attributes


def _outcome_attributes(
    call: CallInfo, status_code: int | None, error_type: str | None
) -> dict[str, AttributeValue]:
    """``_base_attributes`` plus how an attempt or a whole call ended (both durations)."""
    attributes = _base_attributes(call)
    if status_code is not None:
        attributes["http.response.status_code"] = status_code
    if error_type is not None:
        attributes["error.type"] = error_type
    return attributes


def _end_span(
    span: trace.Span,
    attributes: dict[str, AttributeValue],
    request_id: str | None,
    error_type: str | None,
) -> None:
    """Finish an attempt's or a call's span the same way: outcome, request id, error status."""
    span.set_attributes(attributes)
    if request_id is not None:
        span.set_attribute("lettr.request_id", request_id)
    if error_type is not None:
        span.set_status(Status(StatusCode.ERROR, error_type))
    span.end()


class _Instrumentation:
    """Span bookkeeping per call id, and the instruments; its bound methods are the hooks."""

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None,
        meter_provider: metrics.MeterProvider | None,
    ) -> None:
        self.tracer = trace.get_tracer(
            INSTRUMENTATION_NAME, __version__, tracer_provider=tracer_provider
        )
        meter = metrics.get_meter(INSTRUMENTATION_NAME, __version__, meter_provider=meter_provider)
        self.request_duration = meter.create_histogram(
            "http.client.request.duration",
            unit="s",
            description="Duration of each HTTP request (attempt) to the Lettr API.",
            explicit_bucket_boundaries_advisory=list(_DURATION_BUCKETS),
        )
        self.call_duration = meter.create_histogram(
            "lettr.client.call.duration",
            unit="s",
            description="Duration of each logical Lettr call, retries and waits included.",
            explicit_bucket_boundaries_advisory=list(_DURATION_BUCKETS),
        )
        self.retries = meter.create_counter(
            "lettr.client.retries", unit="{retry}", description="Retries of Lettr API calls."
        )
        self.limiter_wait = meter.create_histogram(
            "lettr.client.rate_limit.wait",
            unit="s",
            description="Time the client-side rate limiter held a request before sending it.",
            explicit_bucket_boundaries_advisory=list(_DURATION_BUCKETS),
        )
        self.calls: dict[int, trace.Span] = {}
        self.attempts: dict[int, trace.Span] = {}

    def _call_span(self, call: CallInfo) -> trace.Span:
        span = self.calls.get(call.call_id)
        if span is None:
            span = self.tracer.start_span(
                f"lettr {call.method} {call.path_template}",
                kind=SpanKind.INTERNAL,
                attributes=_base_attributes(call),
            )
            self.calls[call.call_id] = span
        return span

    def on_rate_limit_wait(self, record: RateLimitWait) -> None:
        attributes = {**_base_attributes(record.call), "lettr.rate_limit.lane": record.lane}
        self._call_span(record.call).add_event(
            "lettr.rate_limit.wait",
            {"lettr.attempt": record.attempt, "lettr.rate_limit.wait_s": record.wait, **attributes},
        )
        self.limiter_wait.record(record.wait, attributes)

    def on_request(self, record: Request) -> None:
        parent = trace.set_span_in_context(self._call_span(record.call))
        attributes = _base_attributes(record.call)
        attributes["url.scheme"] = record.call.url_scheme
        if record.attempt > 1:
            attributes["http.request.resend_count"] = record.attempt - 1
        self.attempts[record.call.call_id] = self.tracer.start_span(
            f"{record.call.method} {record.call.path_template}",
            context=parent,
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )

    def on_response(self, record: Response) -> None:
        attributes = _outcome_attributes(record.call, record.status_code, record.error_type)
        self.request_duration.record(record.duration, attributes)
        span = self.attempts.pop(record.call.call_id, None)
        if span is None:
            return
        if record.error_code is not None:
            span.set_attribute("lettr.error_code", record.error_code)
        _end_span(span, attributes, record.request_id, record.error_type)

    def on_retry(self, record: Retry) -> None:
        attributes = {**_base_attributes(record.call), "error.type": record.error_type}
        self._call_span(record.call).add_event(
            "lettr.retry",
            {"lettr.attempt": record.attempt, "lettr.retry.wait_s": record.wait, **attributes},
        )
        self.retries.add(1, attributes)

    def on_call_end(self, record: CallEnd) -> None:
        attributes = _outcome_attributes(record.call, record.status_code, record.error_type)
        self.call_duration.record(record.duration, attributes)
        leftover = self.attempts.pop(record.call.call_id, None)
        if leftover is not None:  # an attempt cancelled before its response
            leftover.end()
        span = self.calls.pop(record.call.call_id, None) or self._detached(record.call)
        span.set_attribute("lettr.attempts", record.attempts)
        _end_span(span, attributes, record.request_id, record.error_type)

    def _detached(self, call: CallInfo) -> trace.Span:
        span = self._call_span(call)
        del self.calls[call.call_id]
        return span


def opentelemetry_hooks(
    *,
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
) -> Hooks:
    """Hooks that trace and measure every call; pass them as a client's ``hooks=``.

    The global tracer and meter providers are used unless others are given
    (tests pass SDK providers with in-memory exporters). Combine with your own
    hooks with ``+``.
    """
    inst = _Instrumentation(tracer_provider, meter_provider)
    return Hooks(
        on_request=inst.on_request,
        on_response=inst.on_response,
        on_retry=inst.on_retry,
        on_rate_limit_wait=inst.on_rate_limit_wait,
        on_call_end=inst.on_call_end,
    )
