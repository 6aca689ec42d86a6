"""The framework-neutral core of a webhook endpoint.

"check authenticity, parse, drop duplicates, dispatch, answer" is written
once here; the Django and aiohttp helpers only translate requests and
responses. It is public so the same behaviour can be wired into any other
framework (Flask, Starlette...) in a few lines.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, TypeAlias

import attrs

from lettr_async.events._dedup import DedupStore, InMemoryDedupStore
from lettr_async.events._errors import WebhookPayloadError, WebhookVerificationError
from lettr_async.events._models import WebhookEvent
from lettr_async.events._parse import parse_events
from lettr_async.events._verify import (
    DEFAULT_TOLERANCE,
    SIGNATURE_HEADER,
    check_tolerance,
    require_signature,
    verify_basic_auth,
    verify_bearer,
)

__all__ = ["AsyncHandler", "Handler", "SyncHandler", "WebhookReceiver", "WebhookResponse"]

logger = logging.getLogger("lettr_async.events")

SyncHandler: TypeAlias = Callable[[list[WebhookEvent]], object]
"""A callable given the new events of one delivery; its return value is ignored."""

AsyncHandler: TypeAlias = Callable[[list[WebhookEvent]], Awaitable[object]]
"""A coroutine function given the new events of one delivery."""

Handler: TypeAlias = SyncHandler | AsyncHandler
"""Either kind of handler."""


@attrs.frozen
class WebhookResponse:
    """What to answer Lettr: a status, a JSON body and extra headers.

    Framework-neutral so each integration only has to copy it into its own
    response type. 2xx means "done"; anything else makes Lettr retry.
    """

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class _Batch:
    events: list[WebhookEvent]
    received: int
    claimed: list[str]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # plain dicts are case-sensitive; framework headers are not
        lowered = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lowered:
                return candidate
    return value


class WebhookReceiver:
    """Authenticate, parse, de-duplicate and dispatch webhook deliveries.

    Why: one tested implementation of the delivery protocol behind every
    framework helper. Configure the checks matching the webhook in Lettr:

    - ``basic_auth=(username, password)`` for ``auth_type=basic``;
    - ``bearer_token`` for ``auth_type=oauth2`` (the token your token
      endpoint issues to Lettr);
    - ``signing_secret`` for the ``Lettr-Signature`` HMAC header.

    When both ``basic_auth`` and ``bearer_token`` are set, either one is
    accepted (handy while switching a webhook's auth type); a configured
    signature is always required in addition. With no check configured every
    delivery is accepted: only do that behind another layer of protection.

    ``dedup_store`` defaults to a fresh ``InMemoryDedupStore``; pass
    ``False`` to turn de-duplication off. Events without an ``event_id``
    are never treated as duplicates.

    Answers: 405 for methods other than POST, 401 for failed checks, 400 for
    malformed bodies, 500 when the handler raises (the claimed event ids are
    released so Lettr's retry is processed), else 200 with
    ``{"received": <events in the delivery>, "duplicates": <dropped>}``.
    The handler is not called when a delivery holds no new event.
    """

    __slots__ = ("_basic_auth", "_bearer_token", "_dedup", "_signing_secret", "_tolerance")

    def __init__(
        self,
        *,
        basic_auth: tuple[str, str] | None = None,
        bearer_token: str | None = None,
        signing_secret: str | bytes | None = None,
        dedup_store: DedupStore | Literal[False] | None = None,
        tolerance: float = DEFAULT_TOLERANCE,
    ) -> None:
        if basic_auth is not None and (len(basic_auth) != 2 or not basic_auth[0]):
            raise ValueError("basic_auth must be a (username, password) pair")
        if bearer_token is not None and not bearer_token:
            raise ValueError("bearer_token must not be empty")
        if signing_secret is not None and not signing_secret:
            raise ValueError("signing_secret must not be empty")
        self._basic_auth = basic_auth
        self._bearer_token = bearer_token
        self._signing_secret = signing_secret
        self._tolerance = check_tolerance(tolerance)
        self._dedup: DedupStore | None = (
            InMemoryDedupStore()
            if dedup_store is None
            else (None if dedup_store is False else dedup_store)
        )

    def __repr__(self) -> str:
        checks = [
            name
            for name, value in (
                ("basic_auth", self._basic_auth),
                ("bearer_token", self._bearer_token),
                ("signing_secret", self._signing_secret),
            )
            if value is not None
        ]
        return f"WebhookReceiver(checks={checks}, dedup_store={self._dedup!r})"

    @property
    def dedup_store(self) -> DedupStore | None:
        """The store used to drop duplicate events (``None`` when disabled)."""
        return self._dedup

    def authenticate(self, headers: Mapping[str, str], body: bytes) -> None:
        """Run the configured checks; raise ``WebhookVerificationError`` on failure."""
        if self._basic_auth is not None or self._bearer_token is not None:
            authorization = _header(headers, "Authorization")
            ok = False
            if self._basic_auth is not None:
                ok |= verify_basic_auth(authorization, *self._basic_auth)
            if self._bearer_token is not None:
                ok |= verify_bearer(authorization, self._bearer_token)
            if not ok:
                reason = "missing_header" if not authorization else "bad_credentials"
                raise WebhookVerificationError(
                    "missing or invalid Authorization credentials", reason=reason
                )
        if self._signing_secret is not None:
            require_signature(
                body,
                _header(headers, SIGNATURE_HEADER),
                self._signing_secret,
                tolerance=self._tolerance,
            )

    def _unauthorized(self, exc: WebhookVerificationError) -> WebhookResponse:
        logger.warning("rejected webhook delivery: %s (%s)", exc, exc.reason)
        headers: dict[str, str] = {}
        if self._basic_auth is not None:
            headers["WWW-Authenticate"] = 'Basic realm="lettr-webhooks", charset="UTF-8"'
        elif self._bearer_token is not None:
            headers["WWW-Authenticate"] = 'Bearer realm="lettr-webhooks"'
        return WebhookResponse(401, {"error": "unauthorized", "reason": exc.reason}, headers)

    def _begin(
        self, method: str, headers: Mapping[str, str], body: bytes
    ) -> WebhookResponse | _Batch:
        if method.upper() != "POST":
            return WebhookResponse(405, {"error": "method not allowed"}, {"Allow": "POST"})
        try:
            self.authenticate(headers, body)
        except WebhookVerificationError as exc:
            return self._unauthorized(exc)
        try:
            events = parse_events(body)
        except WebhookPayloadError as exc:
            logger.warning("malformed webhook delivery: %s", exc)
            return WebhookResponse(400, {"error": "malformed payload", "detail": str(exc)})
        if self._dedup is None:
            return _Batch(events, len(events), [])
        fresh: list[WebhookEvent] = []
        claimed: list[str] = []
        try:
            for event in events:
                if event.id is None:
                    fresh.append(event)
                elif self._dedup.add(event.id):
                    fresh.append(event)
                    claimed.append(event.id)
        except BaseException:
            self._release(claimed)
            raise
        return _Batch(fresh, len(events), claimed)

    def _release(self, claimed: list[str]) -> None:
        if self._dedup is None:
            return
        for event_id in claimed:
            try:
                self._dedup.discard(event_id)
            except Exception:
                logger.exception("could not release event id %s from the dedup store", event_id)

    def _failed(self, batch: _Batch) -> WebhookResponse:
        self._release(batch.claimed)
        logger.exception("webhook handler failed for %d event(s)", len(batch.events))
        return WebhookResponse(500, {"error": "handler failed"})

    @staticmethod
    def _ok(batch: _Batch) -> WebhookResponse:
        return WebhookResponse(
            200, {"received": batch.received, "duplicates": batch.received - len(batch.events)}
        )

    def handle(
        self, method: str, headers: Mapping[str, str], body: bytes, handler: SyncHandler
    ) -> WebhookResponse:
        """Process one delivery with a synchronous handler and say what to answer.

        Raises ``TypeError`` if the handler returns an awaitable: use
        ``handle_async`` for coroutine handlers.
        """
        batch = self._begin(method, headers, body)
        if isinstance(batch, WebhookResponse):
            return batch
        if batch.events:
            try:
                result = handler(batch.events)
            except Exception:
                return self._failed(batch)
            except BaseException:
                self._release(batch.claimed)
                raise
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()
                self._release(batch.claimed)
                raise TypeError("the handler returned an awaitable: use handle_async()")
        return self._ok(batch)

    async def handle_async(
        self, method: str, headers: Mapping[str, str], body: bytes, handler: Handler
    ) -> WebhookResponse:
        """Process one delivery with a sync or async handler and say what to answer.

        A synchronous handler is called directly, on the event loop: keep it
        quick or make it a coroutine function.
        """
        batch = self._begin(method, headers, body)
        if isinstance(batch, WebhookResponse):
            return batch
        if batch.events:
            try:
                result = handler(batch.events)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                return self._failed(batch)
            except BaseException:  # cancellation: let the retry process the events
                self._release(batch.claimed)
                raise
        return self._ok(batch)
