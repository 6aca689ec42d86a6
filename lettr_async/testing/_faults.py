"""Fault injection for FakeLettr: what can go wrong on the wire, and the queue of it.

Clients must survive slow answers, error statuses, HTML error pages, dropped
connections and broken JSON. Tests queue those faults here instead of
monkeypatching the client, so the client's real transport code is exercised.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

import attrs

__all__ = ["DEFAULT_BODY", "Fault", "FaultKind", "FaultQueue", "default_error_body"]


class FaultKind(enum.Enum):
    """The four ways FakeLettr can misbehave; one per ``Fault`` constructor."""

    DELAY = "delay"
    STATUS = "status"
    DROP = "drop"
    MALFORMED = "malformed"


class _DefaultBody:
    """Sentinel type: "use the spec's error body for this status and operation"."""

    def __repr__(self) -> str:
        return "DEFAULT_BODY"


DEFAULT_BODY: Final = _DefaultBody()
"""Marks a ``Fault.status`` whose JSON body is chosen from the spec at answer time."""

_OPERATION_NOUN: Final[Mapping[str, str]] = {
    "list": "retrieve webhooks",
    "create": "create webhook",
    "get": "retrieve webhook",
    "update": "update webhook",
    "delete": "delete webhook",
}


def default_error_body(status: int, operation: str | None) -> dict[str, Any]:
    """Return the error body Lettr's spec documents for ``status`` on ``operation``.

    ``operation`` is one of list/create/get/update/delete, or None for an
    unknown route. Statuses the spec does not document get a plausible body in
    the same shape, so clients see what a real deployment (or its proxy) sends.
    """
    if status == 401:
        return {"message": "Invalid API key."}
    if status == 422:
        return {
            "message": "Validation failed.",
            "error_code": "validation_error",
            "errors": {"name": ["The name field is required."]},
        }
    if status == 429:
        return {"message": "Too many requests.", "error_code": "rate_limit_exceeded"}
    if status == 500:
        noun = _OPERATION_NOUN.get(operation or "", "process the request")
        return {
            "message": f"Failed to {noun}. Please try again later.",
            "error_code": "send_error",
        }
    fixed: dict[int, dict[str, Any]] = {
        400: {"message": "Invalid webhook configuration.", "error_code": "send_error"},
        403: {
            "message": "This API key does not have the required scope.",
            "error_code": "insufficient_scope",
        },
        404: {"message": "Webhook not found.", "error_code": "not_found"},
        409: {
            "message": "A webhook with this target URL already exists.",
            "error_code": "resource_already_exists",
        },
        502: {"message": "Bad gateway.", "error_code": "transmission_failed"},
    }
    if status in fixed:
        return dict(fixed[status])
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    body: dict[str, Any] = {"message": f"{phrase}."}
    if status >= 500:
        body["error_code"] = "send_error"
    return body


def _freeze_headers(headers: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(headers.items()) if headers else ()


@attrs.frozen
class Fault:
    """One misbehaviour applied to one request; build it with the classmethods.

    Frozen, so one fault object can be queued many times without surprises.
    """

    kind: FaultKind
    seconds: float = 0.0
    code: int = 200
    json: Any = DEFAULT_BODY
    body: bytes | None = None
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Wait ``seconds`` then answer normally: exercises client timeouts."""
        if seconds < 0:
            raise ValueError("delay must be >= 0")
        return cls(kind=FaultKind.DELAY, seconds=float(seconds))

    @classmethod
    def hang(cls, seconds: float) -> Fault:
        """Alias of ``delay``: reads better when the point is the client giving up."""
        return cls.delay(seconds)

    @classmethod
    def status(
        cls,
        code: int,
        *,
        json: Any = DEFAULT_BODY,
        body: str | bytes | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer ``code`` instead of the real answer: exercises error mapping and retries.

        Without ``json`` or ``body`` the body is the spec's error body for that
        status and operation. ``body`` sends raw bytes (say an HTML 502 page)
        with ``content_type`` (default ``text/html``). A 429 gets
        ``Retry-After: 1`` unless ``headers`` says otherwise.
        """
        if not 100 <= code <= 599:
            raise ValueError(f"invalid HTTP status {code}")
        raw = body.encode() if isinstance(body, str) else body
        return cls(
            kind=FaultKind.STATUS,
            code=code,
            json=json,
            body=raw,
            content_type=content_type,
            headers=_freeze_headers(headers),
        )

    @classmethod
    def drop(cls) -> Fault:
        """Close the TCP connection without answering: the client sees a disconnect."""
        return cls(kind=FaultKind.DROP)

    @classmethod
    def malformed(cls) -> Fault:
        """Answer 200 ``application/json`` with a body that is not JSON."""
        return cls(kind=FaultKind.MALFORMED, code=200)


@attrs.frozen
class _Pending:
    fault: Fault
    method: str | None
    path: str | None

    def matches(self, method: str, path: str, raw_path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        return self.path is None or self.path in (path, raw_path)


class FaultQueue:
    """Faults waiting for matching requests, consumed first-in first-out.

    Thread-safe because ``FakeLettr.in_thread`` lets a test thread queue
    faults while the server's loop consumes them.
    """

    def __init__(self) -> None:
        """Start empty."""
        self._pending: list[_Pending] = []
        self._lock = threading.Lock()

    def add(
        self, faults: tuple[Fault, ...], *, method: str | None, path: str | None, times: int
    ) -> None:
        """Queue ``faults`` (in order) ``times`` over, for requests matching the filters."""
        if times < 0:
            raise ValueError("times must be >= 0")
        wanted = method.upper() if method is not None else None
        entries = [_Pending(f, wanted, path) for _ in range(times) for f in faults]
        with self._lock:
            self._pending.extend(entries)

    def take(self, method: str, path: str, raw_path: str) -> Fault | None:
        """Remove and return the first queued fault matching this request, if any."""
        with self._lock:
            for index, entry in enumerate(self._pending):
                if entry.matches(method, path, raw_path):
                    del self._pending[index]
                    return entry.fault
        return None

    def clear(self) -> None:
        """Forget every queued fault."""
        with self._lock:
            self._pending.clear()

    def __len__(self) -> int:
        """Number of faults still waiting."""
        with self._lock:
            return len(self._pending)
