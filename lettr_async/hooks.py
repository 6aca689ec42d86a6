"""Observability hooks: typed, immutable records of what every API call did.

Why: metrics, tracing and audit logs need to see each call, each attempt,
each retry and each wait for the rate limiter, without monkeypatching the
SDK or reading its private state. A ``Hooks`` object holds plain callables
per event; the request pipeline drives one ``CallTracker`` per logical call,
which builds the records and hands them to the callables.

Guarantees:

* Records are frozen attrs classes (dict classes, not slotted: a frozen
  slotted class pays a C wrapper call per field, and records are built on
  every hooked call) carrying the method, the path template
  (``/webhooks/{id}``), attempt numbers, status, durations, waits, the API
  ``error_code`` and the server's request id. They never carry the API key,
  request headers or bodies, so no credential can leak through a hook.
* A hook that raises never breaks a call: the exception is logged once per
  hook (on the ``lettr_async.hooks`` logger) and later failures of the same
  hook are ignored silently.
* With no hooks registered and no ``capture_response`` block, the pipeline
  makes no tracker at all: a call pays one attribute read and one context
  variable read for observability.

``capture_response()`` gives the headers and request id of the calls made
inside a ``with`` block (the "raw response" of a successful call).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import itertools
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from time import perf_counter
from typing import TypeVar
from urllib.parse import urlsplit

import attrs

from .errors import ALT_REQUEST_ID_HEADER, REQUEST_ID_HEADER

__all__ = [
    "CallEnd",
    "CallInfo",
    "CapturedResponse",
    "Hooks",
    "RateLimitWait",
    "Request",
    "Response",
    "Retry",
    "capture_response",
    "path_template",
]

logger = logging.getLogger("lettr_async.hooks")

_EMPTY_HEADERS: Mapping[str, str] = {}
_NO_ATTEMPT: tuple[None, None, None, Mapping[str, str]] = (None, None, None, _EMPTY_HEADERS)
_call_ids = itertools.count(1)


def path_template(path: str) -> str:
    """The low-cardinality route of a request path: ``/webhooks/abc`` -> ``/webhooks/{id}``.

    Metrics and span names must not contain ids (one time series per webhook
    would explode a metrics backend), so every record carries the template.
    """
    bare = path.split("?", 1)[0]
    segments = bare.strip("/").split("/")
    if len(segments) >= 2 and segments[0] == "webhooks":
        return "/webhooks/{id}" + ("/" + "/".join(segments[2:]) if len(segments) > 2 else "")
    return "/" + "/".join(segments)


@attrs.frozen(slots=False)
class CallInfo:
    """One logical API call (all its attempts), shared by every record of that call.

    ``call_id`` is unique in the process, so concurrent calls' records can be
    told apart; ``server_address``/``server_port`` come from the base URL.
    """

    call_id: int
    method: str
    path_template: str
    server_address: str
    server_port: int | None
    url_scheme: str


@attrs.frozen(slots=False)
class Request:
    """``on_request``: attempt ``attempt`` (1-based) is about to be sent."""

    call: CallInfo
    attempt: int


@attrs.frozen(slots=False)
class RateLimitWait:
    """``on_rate_limit_wait``: the client-side limiter held this attempt for ``wait`` seconds."""

    call: CallInfo
    attempt: int
    wait: float
    lane: str


@attrs.frozen(slots=False)
class Response:
    """``on_response``: one attempt ended, with an HTTP answer or a transport error.

    ``status_code`` is None when no answer arrived (timeout, dropped
    connection). ``error_type`` is None on success, else the status code as a
    string (``"503"``) or the exception class name (``"APITimeoutError"``),
    as OpenTelemetry's ``error.type`` wants. ``headers`` are the response
    headers (empty without an answer); ``duration`` is in seconds.
    """

    call: CallInfo
    attempt: int
    duration: float
    status_code: int | None
    error_type: str | None
    error_code: str | None
    request_id: str | None
    headers: Mapping[str, str] = attrs.field(repr=False)


@attrs.frozen(slots=False)
class Retry:
    """``on_retry``: ``attempt`` failed with ``error_type``; the next one starts after ``wait``."""

    call: CallInfo
    attempt: int
    wait: float
    error_type: str


@attrs.frozen(slots=False)
class CallEnd:
    """``on_call_end``: the logical call finished, successfully or not, after ``attempts``."""

    call: CallInfo
    attempts: int
    duration: float
    status_code: int | None
    error_type: str | None
    error_code: str | None
    request_id: str | None
    headers: Mapping[str, str] = attrs.field(repr=False)


R = TypeVar("R")
_OneOrMany = Callable[[R], object] | Sequence[Callable[[R], object]] | None


def _callables(value: _OneOrMany[R], name: str) -> tuple[Callable[[R], object], ...]:
    hooks: tuple[Callable[[R], object], ...]
    if value is None:
        hooks = ()
    elif callable(value):
        hooks = (value,)
    else:
        hooks = tuple(value)
    for hook in hooks:
        if not callable(hook):
            raise TypeError(f"Hooks({name}=...) needs callables, got {hook!r}")
    return hooks


class _Failures:
    """Which hooks already had their failure logged (each is logged once)."""

    def __init__(self) -> None:
        self.logged: set[int] = set()


def _safe_call(
    hooks: tuple[Callable[[R], object], ...], record: R, event: str, failures: _Failures
) -> None:
    for hook in hooks:
        try:
            hook(record)
        except Exception:
            _failed(hook, event, failures)


def _failed(hook: Callable[..., object], event: str, failures: _Failures) -> None:
    """Log the first failure of ``hook``; the call goes on either way."""
    key = id(hook)
    if key not in failures.logged:
        failures.logged.add(key)
        logger.exception(
            "lettr_async %s hook %r raised; the call goes on and further "
            "failures of this hook are not logged",
            event,
            hook,
        )


class Hooks:
    """Callables per event, called with one immutable record each.

    Pass one callable or a sequence per event. Treat ``Hooks`` as immutable;
    ``a + b`` runs both sets (``a``'s first), which is how an OpenTelemetry
    adapter and your own logging hooks combine. Clients share their hooks
    with ``with_options`` views and the sync facade.
    """

    __slots__ = (
        "_failures",
        "active",
        "on_call_end",
        "on_rate_limit_wait",
        "on_request",
        "on_response",
        "on_retry",
    )

    def __init__(
        self,
        *,
        on_request: _OneOrMany[Request] = None,
        on_response: _OneOrMany[Response] = None,
        on_retry: _OneOrMany[Retry] = None,
        on_rate_limit_wait: _OneOrMany[RateLimitWait] = None,
        on_call_end: _OneOrMany[CallEnd] = None,
    ) -> None:
        """Collect the callables; a non-callable raises ``TypeError`` here, not mid-call."""
        self.on_request = _callables(on_request, "on_request")
        self.on_response = _callables(on_response, "on_response")
        self.on_retry = _callables(on_retry, "on_retry")
        self.on_rate_limit_wait = _callables(on_rate_limit_wait, "on_rate_limit_wait")
        self.on_call_end = _callables(on_call_end, "on_call_end")
        self._failures = _Failures()
        # Whether any hook is registered (the pipeline then builds records): a
        # plain attribute, not a property, as the pipeline reads it on every call.
        self.active = bool(
            self.on_request
            or self.on_response
            or self.on_retry
            or self.on_rate_limit_wait
            or self.on_call_end
        )

    def __repr__(self) -> str:
        counts = ", ".join(
            f"{name}={len(getattr(self, name))}"
            for name in (
                "on_request",
                "on_response",
                "on_retry",
                "on_rate_limit_wait",
                "on_call_end",
            )
        )
        return f"Hooks({counts})"

    def __add__(self, other: Hooks) -> Hooks:
        """Both sets of hooks, this one's first."""
        return Hooks(
            on_request=self.on_request + other.on_request,
            on_response=self.on_response + other.on_response,
            on_retry=self.on_retry + other.on_retry,
            on_rate_limit_wait=self.on_rate_limit_wait + other.on_rate_limit_wait,
            on_call_end=self.on_call_end + other.on_call_end,
        )

    def start_call(self, method: str, path: str, base_url: str) -> CallTracker:
        """The tracker of one logical call to ``base_url + path`` (the pipeline's entry point).

        The pipeline calls it only when something listens (``active`` or a
        ``capture_response`` block): otherwise it makes no tracker at all. It
        fills the tracker itself: a tracker ``__init__`` would be one more
        Python frame on every hooked call.
        """
        tracker = CallTracker()
        tracker.hooks = self
        # A copy of the route's fields with this call's id, set as the new record's
        # __dict__: a thousand instructions fewer than calling CallInfo's __init__.
        fields = _path_fields(method, path, base_url).copy()
        fields["call_id"] = next(_call_ids)
        tracker.call = call = _new_record(CallInfo)
        _set_attribute(call, "__dict__", fields)
        # Whether end() has a reader: decided here, as the pipeline skips end() without
        # one. The call runs in this context, so no capture block can start meanwhile.
        tracker.ends = ends = bool(self.on_call_end or capturing())
        if ends:  # only end() reads these; each attempt's start is set by request()
            tracker.attempts = 0
            tracker._last = _NO_ATTEMPT
            tracker.started = perf_counter()
        return tracker


_new_record = object.__new__
_set_attribute = object.__setattr__  # a frozen record's own __setattr__ refuses


@functools.lru_cache(maxsize=1024)
def _path_fields(method: str, path: str, base_url: str) -> dict[str, object]:
    """``_call_fields`` of a path's route, per path: the same ids come back.

    A path seen before costs one look-up; a new one (a workload over many
    webhooks) is templated and shares its route's dict, without building one.
    """
    return _call_fields(method, path_template(path), base_url)


@functools.lru_cache(maxsize=256)
def _call_fields(method: str, route: str, base_url: str) -> dict[str, object]:
    """``CallInfo``'s fields but its id, per method, route (``path_template``) and base URL.

    Never mutated: ``start_call`` copies it, and many paths share it.
    """
    host, port, scheme = _server(base_url)
    return {
        "call_id": 0,
        "method": method.upper(),
        "path_template": route,
        "server_address": host,
        "server_port": port,
        "url_scheme": scheme,
    }


@functools.lru_cache(maxsize=64)
def _server(base_url: str) -> tuple[str, int | None, str]:
    """``(host, port, scheme)`` of a client's base URL, parsed once, not per call."""
    parts = urlsplit(base_url)
    return parts.hostname or "", parts.port, parts.scheme


NO_HOOKS = Hooks()
"""The empty set of hooks, a client's default."""


def describe_error(
    error: BaseException,
) -> tuple[int | None, str, str | None, str | None, Mapping[str, str]]:
    """``(status_code, error_type, error_code, request_id, headers)`` of a failed attempt.

    API errors are typed by their status code, everything else by class name.
    Reads only public attributes of ``lettr_async.errors`` exceptions.
    """
    status = getattr(error, "status_code", None)
    status = status if isinstance(status, int) else None
    error_code = getattr(error, "error_code", None)
    request_id = getattr(error, "request_id", None)
    headers = getattr(error, "headers", None)
    return (
        status,
        str(status) if status is not None and status >= 400 else type(error).__name__,
        error_code if isinstance(error_code, str) else None,
        request_id if isinstance(request_id, str) else None,
        headers if isinstance(headers, Mapping) else _EMPTY_HEADERS,
    )


class CallTracker:
    """Builds and dispatches the records of one logical call; the pipeline's only interface.

    Call order for a call: per attempt ``rate_limit_wait`` (if it waited),
    ``request``, ``response``; between attempts ``retry``; finally ``end``
    exactly once. Internal (not in ``__all__``): users register callables on
    ``Hooks`` and receive records; only the pipeline holds a tracker, made by
    ``Hooks.start_call``, which sets its state; ``request()`` times each attempt.
    """

    # Slots: no instance dict to make and free on every hooked call.
    __slots__ = ("_attempt_started", "_last", "attempts", "call", "ends", "hooks", "started")
    hooks: Hooks
    call: CallInfo
    ends: bool  # whether end() builds a CallEnd (an on_call_end hook or a capture block)
    # For end() only, so kept only with ends: the start, the attempts made and
    # (status_code, error_type, request_id, headers) of the last attempt.
    started: float
    attempts: int
    _last: tuple[int | None, str | None, str | None, Mapping[str, str]]
    _attempt_started: float

    def rate_limit_wait(self, attempt: int, wait: float, lane: str) -> None:
        """The limiter held ``attempt`` for ``wait`` seconds before it could be sent."""
        h = self.hooks
        if h.on_rate_limit_wait:
            record = RateLimitWait(self.call, attempt, wait, lane)
            _safe_call(h.on_rate_limit_wait, record, "on_rate_limit_wait", h._failures)

    def request(self, attempt: int) -> None:
        """``attempt`` is being sent now (after any rate-limit wait)."""
        self.attempts = attempt
        self._attempt_started = perf_counter()
        h = self.hooks
        if h.on_request:
            _safe_call(h.on_request, Request(self.call, attempt), "on_request", h._failures)

    def response(
        self,
        attempt: int,
        status_code: int | None = None,
        headers: Mapping[str, str] | None = None,
        error: BaseException | None = None,
    ) -> None:
        """``attempt`` ended: with a 2xx (``status_code``, ``headers``) or with ``error``.

        The pipeline passes a success positionally: keywords cost on every call.
        """
        duration = perf_counter() - self._attempt_started
        if error is not None:
            status, error_type, error_code, request_id, hdrs = describe_error(error)
        else:
            status, error_type, error_code = status_code, None, None
            hdrs = headers if headers is not None else _EMPTY_HEADERS
            # find_request_id inlined, with its pre-folded keys: this runs on every
            # hooked call, and a call per response costs more than the lookup.
            request_id = hdrs.get(REQUEST_ID_HEADER) or hdrs.get(ALT_REQUEST_ID_HEADER) or None
        if self.ends:  # only end() reads it
            self._last = (status, error_type, request_id, hdrs)
        h = self.hooks
        if h.on_response:
            # The record's fields stored into its __dict__ here, as start_call does for
            # CallInfo: calling Response's __init__ (a type call and a frame) was about
            # a fifth of a hooked call's cost. tests/test_hooks_cost.py pins that this
            # builds what the constructor builds.
            record = _new_record(Response)
            fields = record.__dict__
            fields["call"] = self.call
            fields["attempt"] = attempt
            fields["duration"] = duration
            fields["status_code"] = status
            fields["error_type"] = error_type
            fields["error_code"] = error_code
            fields["request_id"] = request_id
            fields["headers"] = hdrs
            # _safe_call inlined: the one hot event, one frame fewer per attempt.
            for hook in h.on_response:
                try:
                    hook(record)
                except Exception:
                    _failed(hook, "on_response", h._failures)

    def retry(self, attempt: int, wait: float, error: BaseException) -> None:
        """``attempt`` failed with ``error``; attempt ``attempt + 1`` follows after ``wait`` s."""
        h = self.hooks
        if h.on_retry:
            record = Retry(self.call, attempt, wait, describe_error(error)[1])
            _safe_call(h.on_retry, record, "on_retry", h._failures)

    def end(self, error: BaseException | None = None) -> None:
        """The call returned (``error`` None) or raised ``error``; call exactly once.

        Without ``ends`` it does nothing, and the pipeline does not call it.
        """
        if not self.ends:
            return  # nobody reads the record: do not build it
        h = self.hooks
        last_status, last_error_type, last_request_id, last_headers = self._last
        error_type: str | None
        error_code: str | None
        if error is not None:
            status, error_type, error_code, request_id, headers = describe_error(error)
            if status is None and error_type == last_error_type:
                status = last_status
        else:
            status, request_id, headers = last_status, last_request_id, last_headers
            error_type = error_code = None
        record = CallEnd(
            self.call,
            self.attempts,
            perf_counter() - self.started,
            status,
            error_type,
            error_code,
            request_id,
            headers,
        )
        for capture in _captures.get():
            capture._record(record)
        if h.on_call_end:
            _safe_call(h.on_call_end, record, "on_call_end", h._failures)


class CapturedResponse:
    """What the server said to the calls made inside a ``capture_response()`` block.

    ``calls`` lists every finished call's ``CallEnd`` in order; ``last`` is the
    latest one, and ``headers``, ``request_id`` and ``status_code`` read it
    (None/empty before any call finished).
    """

    def __init__(self) -> None:
        """Start empty."""
        self.calls: list[CallEnd] = []

    def _record(self, record: CallEnd) -> None:
        self.calls.append(record)

    @property
    def last(self) -> CallEnd | None:
        """The most recent finished call, if any."""
        return self.calls[-1] if self.calls else None

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers of the last call (empty if none, or no answer arrived)."""
        return self.calls[-1].headers if self.calls else _EMPTY_HEADERS

    @property
    def request_id(self) -> str | None:
        """The server's request id of the last call: quote it to Lettr's support."""
        return self.calls[-1].request_id if self.calls else None

    @property
    def status_code(self) -> int | None:
        """HTTP status of the last call's final attempt."""
        return self.calls[-1].status_code if self.calls else None


_captures: contextvars.ContextVar[tuple[CapturedResponse, ...]] = contextvars.ContextVar(
    "lettr_async_captures", default=()
)


capturing = _captures.get
"""The ``capture_response`` blocks the current task is in (empty: none); a C call."""


@contextlib.contextmanager
def capture_response() -> Iterator[CapturedResponse]:
    """Collect the response headers and request ids of the calls made in this block.

    It follows the current context (task), so concurrent tasks each see only
    their own calls::

        with capture_response() as captured:
            hook = await client.webhooks.get(hook_id)
        print(captured.request_id, captured.headers["X-RateLimit-Remaining"])
    """
    capture = CapturedResponse()
    token = _captures.set((*_captures.get(), capture))
    try:
        yield capture
    finally:
        _captures.reset(token)
