"""FakeLettr: an in-process HTTP server that speaks Lettr's webhooks API contract.

Tests of the SDK (and of users' code) need a server that answers exactly like
Lettr does, including its validation, error bodies, rate-limit headers and
awkward paths, without network access or a real account. FakeLettr is that
server, on ``aiohttp.web``'s low-level ``Server`` so that routing sees the raw
request path (an id such as ``../domains`` must stay one path segment).
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, Final, Literal
from urllib.parse import unquote

import attrs
from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from multidict import CIMultiDict, CIMultiDictProxy

from lettr_async.types import AuthType, EventsMode

from ._delivery import (
    DEFAULT_ATTEMPT_TIMEOUT,
    DEFAULT_TIME_SCALE,
    Deliverer,
    DeliveryReport,
    Endpoint,
    Outcome,
    Target,
    scaled_schedule,
)
from ._faults import DEFAULT_BODY, Fault, FaultKind, FaultQueue, default_error_body
from ._loopback import LoopbackSite
from ._quota import TeamQuota
from ._rules import (
    SECRET_FIELDS,
    Errors,
    check_enum,
    check_events,
    check_secrets,
    check_string,
    decode_json,
    require_credentials,
    secrets_for,
)
from .events import event_type_of, make_event

__all__ = ["FakeLettr", "RecordedRequest"]

_NOT_FOUND_ROUTE: Final = {"message": "Not found.", "error_code": "not_found"}
_WEBHOOK_NOT_FOUND: Final = {"message": "Webhook not found.", "error_code": "not_found"}
_NOT_AN_OBJECT: Final = {"body": ["The request body must be a JSON object."]}
_DUPLICATE_URL: Final = {
    "message": "A webhook with this target URL already exists.",
    "error_code": "resource_already_exists",
}


@attrs.frozen
class RecordedRequest:
    """One request FakeLettr received, with the answer it gave.

    Tests assert on what actually went over the wire (paths, headers, bodies,
    retries) rather than on the client's intentions.
    ``status`` is 0 when no answer was sent (a dropped connection, or a client
    that went away during a delay). ``faulted`` tells that an injected fault
    shaped the answer, so contract checks can skip it.
    """

    method: str
    path: str
    raw_path: str
    headers: Mapping[str, str]
    body: bytes
    json: Any
    received_at: float
    wall_time: float
    status: int = 0
    response_json: Any = None
    faulted: bool = False


@attrs.frozen
class _Route:
    """Where a request path leads: an operation name and the decoded webhook id."""

    operations: Mapping[str, str]
    webhook_id: str | None = None

    @property
    def known(self) -> bool:
        """Whether the path is one of the API's routes at all."""
        return bool(self.operations)


_COLLECTION: Final[Mapping[str, str]] = {"GET": "list", "POST": "create"}
_ITEM: Final[Mapping[str, str]] = {
    "GET": "get",
    "PUT": "update",
    "PATCH": "update",
    "DELETE": "delete",
}


def _route(raw_path: str) -> _Route:
    """Match a raw (still percent-encoded) path; decode the id segment only after splitting."""
    if not raw_path.startswith("/api/"):
        return _Route({})
    segments = raw_path[len("/api/") :].split("/")
    if segments == ["webhooks"]:
        return _Route(_COLLECTION)
    if len(segments) == 2 and segments[0] == "webhooks":
        return _Route(_ITEM, unquote(segments[1]))
    return _Route({})


@attrs.frozen
class _Answer:
    """A response before it becomes an aiohttp object: JSON payload or raw bytes."""

    status: int
    payload: Any = None
    raw: bytes | None = None
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    faulted: bool = False


def _error(status: int, payload: Mapping[str, Any]) -> _Answer:
    return _Answer(status, dict(payload))


def _validation_failed(errors: Errors) -> _Answer:
    return _Answer(
        422,
        {"message": "Validation failed.", "error_code": "validation_error", "errors": errors},
    )


class _CountingServer(web.Server):
    """aiohttp's low-level server, counting accepted TCP connections (keep-alive proofs)."""

    def __init__(self, owner: FakeLettr, **kwargs: Any) -> None:
        super().__init__(owner._handle, **kwargs)
        self._owner = owner
        self.transports = {}

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        self._owner._count_connection()
        self.transports[handler] = transport
        super().connection_made(handler, transport)

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        self.transports.pop(handler, None)
        super().connection_lost(handler, exc)

    transports: dict[RequestHandler, asyncio.Transport]
    """Open connections' transports, so ``FakeLettr.stop`` can make sure each is closed."""

    async def abort_leftovers(self) -> None:
        """Abort what aiohttp's graceful shutdown left open, and let the sockets close.

        A connection whose handler was cancelled mid-response (a delayed
        fault, a client that went away) may still hold unsent bytes that its
        peer never reads; a graceful close would wait for them forever, and
        the socket would outlive the loop. Aborting closes it for sure.
        """
        leftovers, self.transports = list(self.transports.values()), {}
        for transport in leftovers:
            transport.abort()
        for _ in range(2):  # abort() closes the socket in a call_soon callback
            await asyncio.sleep(0)


class FakeLettr:
    """A fake Lettr API server that follows the OpenAPI contract, for tests and demos.

    Use it as an async context manager in the running loop, or through
    ``FakeLettr.in_thread()`` from synchronous code. State lives in memory;
    ``inject`` queues faults; ``requests`` records every exchange.

    Public attributes: ``requests`` (every request, arrival order, including
    401/404/429/faulted ones), ``webhooks`` (live state: id -> WebhookView
    dict; edit it to seed timestamps or ``last_status``), ``connections_opened``
    (TCP connections accepted, to prove keep-alive reuse) and
    ``rate_limited_count`` (429s the limiter answered, not injected ones),
    ``deliveries`` (every ``DeliveryReport`` that ``deliver`` produced) and
    ``delivery_time_scale`` (the factor applied to Lettr's retry schedule).

    Each request is handled in this order: record it; apply a queued fault
    (a delay then carries on; status/malformed/drop answer instead); unknown
    route -> 404; bad or missing key -> 401; rate limit -> 429; unsupported
    method -> 405; then the operation. Only requests that pass auth count
    toward the rate limit, and a 429 does not count. Every answer, errors and
    faults included, carries ``X-RateLimit-*`` and ``X-Request-Id`` headers.
    """

    def __init__(
        self,
        *,
        api_key: str = "lttr_test_key",
        api_keys: Iterable[str] = (),
        rate_limit: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        delivery_time_scale: float = DEFAULT_TIME_SCALE,
        oauth_client_auth: Literal["basic", "body"] = "basic",
    ) -> None:
        """Configure accepted keys, the per-second team rate limit and where to listen.

        ``delivery_time_scale`` multiplies Lettr's retry schedule in
        ``deliver``; the default ``DEFAULT_TIME_SCALE`` (1e-5) turns its 35
        hours into about a second, ``1.0`` is the real timing;
        ``oauth_client_auth`` is how ``deliver`` authenticates to OAuth 2
        token endpoints (see ``Deliverer``).
        """
        self.api_keys: frozenset[str] = frozenset({api_key, *api_keys})
        self.host = host
        self.port = port
        self.requests: list[RecordedRequest] = []
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.connections_opened = 0
        self.rate_limited_count = 0
        self._secrets: dict[str, dict[str, str | None]] = {}
        self._faults = FaultQueue()
        self._quota = TeamQuota(rate_limit)
        self._lock = threading.RLock()
        self._site: LoopbackSite | None = None
        self._bound_port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.delivery_time_scale = delivery_time_scale
        self.deliveries: list[DeliveryReport] = []
        self._deliverer = Deliverer(oauth_client_auth=oauth_client_auth)

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Bind and serve in the running event loop."""
        if self._site is not None:
            raise RuntimeError("FakeLettr is already started")
        server = _CountingServer(self, handler_cancellation=True, access_log=None)
        runner = web.ServerRunner(server, shutdown_timeout=1.0)
        site = await LoopbackSite.start(runner, self.host, self.port)
        self._site = site
        self._bound_port = site.port
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        """Close the listener and every open connection; safe to call twice."""
        site, self._site = self._site, None
        if site is not None:
            await site.stop()
            if isinstance(server := site.runner.server, _CountingServer):
                await server.abort_leftovers()

    async def __aenter__(self) -> FakeLettr:
        """Start serving for the ``async with`` block."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop serving."""
        await self.stop()

    @classmethod
    def in_thread(cls, **kwargs: Any) -> contextlib.AbstractContextManager[FakeLettr]:
        """Run a FakeLettr on its own loop in a daemon thread, for synchronous callers.

        Keyword arguments go to ``FakeLettr(...)``. Leaving the block stops the
        server and joins the thread.
        """
        from ._thread import run_in_thread

        return run_in_thread(lambda: cls(**kwargs))

    @property
    def base_url(self) -> str:
        """The URL to give a client, ending in ``/api`` like the real service."""
        if self._bound_port is None:
            raise RuntimeError("FakeLettr is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._bound_port}/api"

    # ------------------------------------------------------------ test controls

    def add_webhook(
        self,
        *,
        name: str,
        url: str,
        auth_type: str = "none",
        events: list[str] | None = None,
        enabled: bool = True,
        auth_username: str | None = None,
        auth_password: str | None = None,
        oauth_client_id: str | None = None,
        oauth_client_secret: str | None = None,
        oauth_token_url: str | None = None,
    ) -> dict[str, Any]:
        """Seed a webhook without HTTP (validated like a create); return its view.

        ``events=None`` means "all events". Raises ``ValueError`` on input the
        API would reject, so a test cannot seed impossible state by mistake.
        """
        payload: dict[str, Any] = {
            "name": name,
            "url": url,
            "auth_type": str(auth_type),
            "events_mode": (EventsMode.ALL if events is None else EventsMode.SELECTED).value,
        }
        if events is not None:
            payload["events"] = list(events)
        optional = {
            "auth_username": auth_username,
            "auth_password": auth_password,
            "oauth_client_id": oauth_client_id,
            "oauth_client_secret": oauth_client_secret,
            "oauth_token_url": oauth_token_url,
        }
        payload.update({k: v for k, v in optional.items() if v is not None})
        answer = self._create(payload)
        if answer.status != 201:
            raise ValueError(f"add_webhook rejected ({answer.status}): {answer.payload}")
        view: dict[str, Any] = answer.payload["data"]
        with self._lock:
            self.webhooks[view["id"]]["enabled"] = bool(enabled)
            view["enabled"] = bool(enabled)
        return view

    def credentials(self, webhook_id: str) -> dict[str, str | None]:
        """The stored delivery credentials of a webhook, which the API never returns."""
        with self._lock:
            return dict(self._secrets[webhook_id])

    def inject(
        self,
        *faults: Fault,
        method: str | None = None,
        path: str | None = None,
        times: int = 1,
    ) -> None:
        """Queue faults for the next matching requests, one fault per request.

        ``path`` is relative to ``base_url`` (``/webhooks/webhook-abc``), matched
        against the decoded or the raw path; ``method`` is case-insensitive;
        ``None`` matches anything. The faults are queued ``times`` over, in order.
        """
        if not faults:
            raise ValueError("inject() needs at least one Fault")
        self._faults.add(faults, method=method, path=path, times=times)

    def set_rate_limit(self, per_second: int | None) -> None:
        """Change the per-second limit (``None`` stops enforcing it)."""
        with self._lock:
            self._quota.per_second = per_second

    def reset(self) -> None:
        """Forget webhooks, recorded requests, queued faults and counters."""
        with self._lock:
            self.webhooks.clear()
            self._secrets.clear()
            self.requests.clear()
            self._faults.clear()
            self._quota.reset()
            self.connections_opened = 0
            self.rate_limited_count = 0
            self.deliveries.clear()
            self._deliverer.forget_tokens()

    def _count_connection(self) -> None:
        with self._lock:
            self.connections_opened += 1

    # ---------------------------------------------------------------- delivery

    async def deliver(
        self,
        events: Iterable[Mapping[str, Any] | str] | Mapping[str, Any] | str,
        *,
        retry_schedule: Sequence[float] | None = None,
        timeout: float = DEFAULT_ATTEMPT_TIMEOUT,
        time_scale: float | None = None,
    ) -> list[DeliveryReport]:
        """POST ``events`` to every enabled webhook subscribed to them, like Lettr does.

        Why: end-to-end tests of receivers need real deliveries, with the
        webhook's auth, Lettr's retries and its state bookkeeping.
        ``events`` are items from ``lettr_async.testing.events`` (or any
        ``{"msys": {...}}`` dict) and/or event type names (each becomes
        ``make_event(name)``). Each enabled webhook gets one JSON array of
        the items matching its ``event_types`` (all, when ``None``; items of
        unknown types only reach those), in the given order; webhooks
        matching none are skipped. Webhooks are delivered to concurrently.

        ``retry_schedule`` is the wait, in seconds, before each retry, used
        as given; by default Lettr's schedule (``DEFAULT_RETRY_SCHEDULE``)
        times ``time_scale`` (default ``delivery_time_scale``). ``timeout``
        bounds each attempt. A 2xx ends the delivery; ``410 Gone`` disables
        the webhook; anything else is retried until the schedule runs out.
        Every attempt updates ``last_status`` and ``last_successful_at`` /
        ``last_failure_at``. Returns one report per webhook delivered to.
        Must run on the loop the fake serves on; see ``deliver_sync``.
        Sending is done by ``trigger``'s engine (one implementation of Lettr's
        envelope, auth, retries and bounded reading of receivers' answers).
        """
        scale = self.delivery_time_scale if time_scale is None else time_scale
        reports = await self._deliverer.deliver(
            self._delivery_targets(_as_items(events)),
            schedule=scaled_schedule(scale, retry_schedule),
            timeout=timeout,
            record=self._record_delivery,
            wanted=self._wants_delivery,
        )
        with self._lock:
            self.deliveries.extend(reports)
        return reports

    def deliver_sync(
        self,
        events: Iterable[Mapping[str, Any] | str] | Mapping[str, Any] | str,
        *,
        retry_schedule: Sequence[float] | None = None,
        timeout: float = DEFAULT_ATTEMPT_TIMEOUT,
        time_scale: float | None = None,
    ) -> list[DeliveryReport]:
        """``deliver`` for synchronous callers of a fake started with ``in_thread()``.

        Why: Django tests (a live WSGI server, sync test code) cannot await.
        Runs ``deliver`` on the fake's own loop and blocks until it is done;
        calling it from that loop's thread raises ``RuntimeError`` (it would
        deadlock: ``await fake.deliver(...)`` there instead).
        """
        loop = self._loop
        if loop is None or self._site is None:
            raise RuntimeError("FakeLettr is not started")
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            raise RuntimeError("deliver_sync() called on the fake's loop: await deliver()")
        future = asyncio.run_coroutine_threadsafe(
            self.deliver(
                events, retry_schedule=retry_schedule, timeout=timeout, time_scale=time_scale
            ),
            loop,
        )
        return future.result()

    def _delivery_targets(self, items: list[dict[str, Any]]) -> list[Target]:
        """Snapshot the enabled webhooks and the items each one is subscribed to."""
        typed = [(event_type_of(item), item) for item in items]
        targets: list[Target] = []
        with self._lock:
            for webhook_id, view in self.webhooks.items():
                if not view["enabled"]:
                    continue
                wanted = view["event_types"]
                chosen = tuple(
                    item
                    for kind, item in typed
                    if wanted is None or (kind is not None and kind in wanted)
                )
                if chosen:
                    credentials = self._secrets.get(webhook_id, {})
                    endpoint = Endpoint(
                        url=view["url"],
                        auth_type=view["auth_type"],
                        **{key: credentials.get(key) for key in SECRET_FIELDS},
                    )
                    targets.append(Target(webhook_id, endpoint, chosen))
        return targets

    def _record_delivery(self, webhook_id: str, outcome: Outcome) -> None:
        """Update a webhook's delivery bookkeeping after one attempt."""
        stamp = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        with self._lock:
            view = self.webhooks.get(webhook_id)
            if view is None:  # deleted meanwhile
                return
            if outcome == "success":
                view["last_status"] = "success"
                view["last_successful_at"] = stamp
            else:
                view["last_status"] = "failure"
                view["last_failure_at"] = stamp
            if outcome == "gone":
                view["enabled"] = False

    def _wants_delivery(self, webhook_id: str) -> bool:
        """Whether a retry should still go out (not deleted or disabled meanwhile)."""
        with self._lock:
            view = self.webhooks.get(webhook_id)
            return view is not None and bool(view["enabled"])

    # ------------------------------------------------------------ HTTP handling

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        """Record, apply a queued fault if any, then answer like Lettr."""
        record, is_json = await self._record(request)
        route = _route(request.raw_path.split("?", 1)[0])
        fault = self._faults.take(record.method, record.path, record.raw_path)
        answer: _Answer | None = None
        if fault is not None and fault.kind is FaultKind.DELAY:
            await asyncio.sleep(fault.seconds)
        elif fault is not None and fault.kind is FaultKind.DROP:
            self._finish(record, _Answer(0, faulted=True))
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError  # nothing may be written after the close
        elif fault is not None:
            answer = _fault_answer(fault, route.operations.get(record.method))
        now = time.time()
        with self._lock:
            if answer is None:
                answer = self._gate(request, route, record.method, now)
            if answer is None:
                answer = self._operate(route, record.method, is_json, record.json)
            response = self._render(answer, now)
        self._finish(record, answer)
        return response

    async def _record(self, request: web.BaseRequest) -> tuple[RecordedRequest, bool]:
        """Read the whole request and append it to ``requests`` (arrival order)."""
        received_at, wall_time = time.monotonic(), time.time()
        body = await request.read()
        raw_path = request.raw_path.split("?", 1)[0]
        raw_rel = raw_path[len("/api") :] if raw_path.startswith("/api/") else raw_path
        is_json, parsed = decode_json(body, request.headers.get("Content-Type", ""))
        record = RecordedRequest(
            method=request.method.upper(),
            path=unquote(raw_rel),
            raw_path=raw_rel,
            headers=CIMultiDictProxy(CIMultiDict(request.headers)),
            body=body,
            json=parsed if is_json else None,
            received_at=received_at,
            wall_time=wall_time,
        )
        with self._lock:
            self.requests.append(record)
        return record, is_json

    def _gate(
        self, request: web.BaseRequest, route: _Route, method: str, now: float
    ) -> _Answer | None:
        """Unknown route (404), then auth (401), rate limit (429), method (405); None = pass."""
        if not route.known:
            return _error(404, _NOT_FOUND_ROUTE)
        auth = self._check_auth(request.headers.get("Authorization"))
        if auth is not None:
            return auth
        if not self._quota.hit(now):
            self.rate_limited_count += 1
            return _Answer(
                429,
                {"message": "Too many requests.", "error_code": "rate_limit_exceeded"},
                headers=(("Retry-After", str(self._quota.retry_after(now))),),
            )
        if method not in route.operations:
            return _Answer(
                405,
                {"message": f"The {method} method is not supported for this route."},
                headers=(("Allow", ", ".join(route.operations)),),
            )
        return None

    def _operate(self, route: _Route, method: str, is_json: bool, payload: Any) -> _Answer:
        """Run the operation the route and method name, on the in-memory state."""
        operation = route.operations[method]
        if operation == "list":
            views = [self._view(key) for key in self.webhooks]
            return _Answer(
                200, {"message": "Webhooks retrieved successfully.", "data": {"webhooks": views}}
            )
        not_object = not is_json or not isinstance(payload, dict)
        if operation == "create":
            return _validation_failed(_NOT_AN_OBJECT) if not_object else self._create(payload)
        webhook_id = route.webhook_id or ""
        if not webhook_id and operation == "delete":
            return _validation_failed({"webhookId": ["The webhook ID is required."]})
        if webhook_id not in self.webhooks:
            return _error(404, _WEBHOOK_NOT_FOUND)
        if operation == "get":
            return _Answer(
                200, {"message": "Webhook retrieved successfully.", "data": self._view(webhook_id)}
            )
        if operation == "delete":
            del self.webhooks[webhook_id]
            self._secrets.pop(webhook_id, None)
            return _Answer(200, {"message": "Webhook deleted successfully."})
        return (
            _validation_failed(_NOT_AN_OBJECT) if not_object else self._update(webhook_id, payload)
        )

    def _check_auth(self, header: str | None) -> _Answer | None:
        scheme, _, token = (header or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return _Answer(401, {"message": "API key is required."})
        if token not in self.api_keys:
            return _Answer(401, {"message": "Invalid API key."})
        return None

    def _view(self, webhook_id: str) -> dict[str, Any]:
        view = dict(self.webhooks[webhook_id])
        if isinstance(view.get("event_types"), list):
            view["event_types"] = list(view["event_types"])
        return view

    def _url_taken(self, url: str, except_id: str | None = None) -> bool:
        return any(v["url"] == url and k != except_id for k, v in self.webhooks.items())

    def _create(self, payload: Mapping[str, Any]) -> _Answer:
        """POST /webhooks: validate like Lettr, then store; 409 on a duplicate URL."""
        errors: Errors = {}
        name = check_string(errors, payload, "name", max_len=255, required=True)
        url = check_string(errors, payload, "url", max_len=2048, url=True, required=True)
        auth_type = check_enum(errors, payload, "auth_type", [a.value for a in AuthType], True)
        mode = check_enum(errors, payload, "events_mode", [m.value for m in EventsMode], True)
        events = check_events(errors, payload, required=mode == EventsMode.SELECTED)
        given = check_secrets(errors, payload)
        if auth_type is not None:
            require_credentials(errors, auth_type, dict(given))
        if errors or name is None or url is None or auth_type is None:
            return _validation_failed(errors)
        with self._lock:
            if self._url_taken(url):
                return _error(409, _DUPLICATE_URL)
            webhook_id = _new_id(self.webhooks)
            stored = secrets_for(auth_type, given)
            self._secrets[webhook_id] = stored
            self.webhooks[webhook_id] = {
                "id": webhook_id,
                "name": name,
                "url": url,
                "enabled": True,
                "event_types": events if mode == EventsMode.SELECTED else None,
                "auth_type": auth_type,
                "has_auth_credentials": auth_type != AuthType.NONE,
                "last_successful_at": None,
                "last_failure_at": None,
                "last_status": None,
            }
            return _Answer(
                201, {"message": "Webhook created successfully.", "data": self._view(webhook_id)}
            )

    def _update(self, webhook_id: str, payload: Mapping[str, Any]) -> _Answer:
        """PUT/PATCH: partial update; ``target`` aliases ``url`` (``url`` wins if both)."""
        errors: Errors = {}
        current = self.webhooks[webhook_id]
        name = check_string(errors, payload, "name", max_len=255)
        url = check_string(errors, payload, "url", max_len=2048, url=True)
        target = check_string(errors, payload, "target", max_len=2048, url=True)
        new_url = url if "url" in payload else target
        auth_type = check_enum(errors, payload, "auth_type", [a.value for a in AuthType], False)
        events = check_events(errors, payload, required=False)
        active = payload.get("active")
        if "active" in payload and not isinstance(active, bool):
            errors["active"] = ["The active field must be true or false."]
        given = check_secrets(errors, payload)
        effective_type = auth_type or str(current["auth_type"])
        merged: dict[str, str | None] = {}
        if effective_type == current["auth_type"]:
            merged.update(self._secrets.get(webhook_id, {}))
        merged.update(given)
        require_credentials(errors, effective_type, merged)
        if errors:
            return _validation_failed(errors)
        if new_url is not None and self._url_taken(new_url, except_id=webhook_id):
            return _error(409, _DUPLICATE_URL)
        if name is not None:
            current["name"] = name
        if new_url is not None:
            current["url"] = new_url
        if events is not None:
            current["event_types"] = events
        if isinstance(active, bool):
            current["enabled"] = active
        current["auth_type"] = effective_type
        current["has_auth_credentials"] = effective_type != AuthType.NONE
        self._secrets[webhook_id] = secrets_for(effective_type, merged)
        return _Answer(
            200, {"message": "Webhook updated successfully.", "data": self._view(webhook_id)}
        )

    # ------------------------------------------------------------------ output

    def _render(self, answer: _Answer, now: float) -> web.Response:
        """Turn an answer into a response carrying the headers every Lettr answer has."""
        headers = self._quota.headers(now)
        headers["X-Request-Id"] = uuid.uuid4().hex
        if answer.raw is not None:
            body = answer.raw
            content_type = answer.content_type or "text/html; charset=utf-8"
        else:
            body = jsonlib.dumps(answer.payload).encode()
            content_type = answer.content_type or "application/json"
        headers["Content-Type"] = content_type
        response = web.Response(status=answer.status, body=body, headers=headers)
        for key, value in answer.headers:
            response.headers[key] = value
        return response

    def _finish(self, record: RecordedRequest, answer: _Answer) -> None:
        """Replace the placeholder record with one that carries the answer given."""
        done = attrs.evolve(
            record,
            status=answer.status,
            response_json=answer.payload if answer.raw is None else None,
            faulted=answer.faulted,
        )
        with self._lock:
            for index in range(len(self.requests) - 1, -1, -1):
                if self.requests[index] is record:
                    self.requests[index] = done
                    break


def _new_id(existing: Mapping[str, Any]) -> str:
    while True:
        candidate = f"webhook-{secrets.token_hex(6)}"
        if candidate not in existing:
            return candidate


_MALFORMED_BODY: Final = b'{"message": "Webhooks retrieved successfully.", "data": {"webh'


def _fault_answer(fault: Fault, operation: str | None) -> _Answer:
    """The answer an injected STATUS or MALFORMED fault gives."""
    if fault.kind is FaultKind.MALFORMED:
        return _Answer(200, raw=_MALFORMED_BODY, content_type="application/json", faulted=True)
    headers = fault.headers
    if fault.code == 429 and not any(k.lower() == "retry-after" for k, _ in headers):
        headers = (("Retry-After", "1"), *headers)
    if fault.body is not None:
        return _Answer(
            fault.code,
            raw=fault.body,
            content_type=fault.content_type,
            headers=headers,
            faulted=True,
        )
    payload = (
        default_error_body(fault.code, operation) if fault.json is DEFAULT_BODY else fault.json
    )
    return _Answer(
        fault.code,
        payload,
        content_type=fault.content_type,
        headers=headers,
        faulted=True,
    )


def _as_items(
    events: Iterable[Mapping[str, Any] | str] | Mapping[str, Any] | str,
) -> list[dict[str, Any]]:
    """Turn ``deliver``'s input into delivery items: names become ``make_event(name)``."""
    given: Iterable[Mapping[str, Any] | str] = (
        [events] if isinstance(events, (str, Mapping)) else events
    )
    items: list[dict[str, Any]] = []
    for entry in given:
        if isinstance(entry, str):
            items.append(make_event(entry))
        elif isinstance(entry, Mapping):
            items.append(dict(entry))
        else:
            raise TypeError(f"cannot deliver {type(entry).__name__}: give event dicts or names")
    return items
