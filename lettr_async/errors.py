"""The typed exceptions every failure of the SDK surfaces as.

The names match Lettr's own Python SDK so ``except lettr.NotFoundError``
code keeps working; unlike it, transport failures, non-JSON error pages and
malformed success bodies each get a type of their own, and every API error
carries its status, error code, headers and request id.

No exception text ever contains the API key or webhook credentials: messages
are built from the server's ``message``/``error_code`` and field names only,
and whatever the server echoed of the call's secrets is redacted from every
error before it is raised (``_redact``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy, istr

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "CLIENT_RATE_LIMITED",
    "BadRequestError",
    "ConflictError",
    "ForbiddenError",
    "InsecureBaseURLWarning",
    "LettrError",
    "NotAttemptedError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "TLSCertificateError",
    "UnexpectedResponseError",
    "UnprocessableEntityError",
    "ValidationError",
    "error_for_status",
]


class LettrError(Exception):
    """Base class of every exception this SDK raises on purpose."""

    message: str
    attempts: int | None = None
    """How many requests the failed call sent (0: refused before sending; None: not a call)."""
    elapsed: float | None = None
    """Seconds the whole call took, all attempts and waits included (None: see ``attempts``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class APIConnectionError(LettrError):
    """The request could not be completed at the transport level.

    ``request_sent`` is False only when the SDK knows the request never left
    this machine (e.g. the connection was refused); that is the one case in
    which a non-idempotent ``create`` is safe to retry.
    """

    request_sent: bool

    def __init__(self, message: str, *, request_sent: bool = True) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    """The call did not complete within its timeout (all attempts and waits together)."""


class TLSCertificateError(APIConnectionError):
    """The server's TLS certificate failed verification.

    Deterministic, so never retried; nothing was sent. Pass ``verify=`` (a CA
    bundle path or an ``ssl.SSLContext``) when the server uses a private CA.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, request_sent=False)


class UnexpectedResponseError(LettrError):
    """The server answered, but not with what the API contract promises.

    Raised for malformed JSON in a success response or a body whose shape
    does not match the contract; ``path`` points at the offending field
    (e.g. ``$.data.webhooks[0].id``) when known.
    """

    status_code: int | None
    path: str | None

    def __init__(
        self, message: str, *, status_code: int | None = None, path: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.path = path


class APIStatusError(LettrError):
    """The server answered with an HTTP error status.

    ``error_code`` is Lettr's machine-readable code (an open set: unknown
    codes are kept as they are), ``headers`` the response headers and
    ``request_id`` the server's request id when it sent one.
    """

    status_code: int
    error_code: str | None
    headers: Mapping[str, str]
    request_id: str | None
    body: Any
    retry_after: float | None

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error_code: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_code = error_code
        self.headers = CIMultiDictProxy(CIMultiDict(headers or {}))
        self.request_id = find_request_id(self.headers)
        self.body = body
        self.retry_after = retry_after

    def __str__(self) -> str:
        code = f" {self.error_code}" if self.error_code else ""
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{self.status_code}{code}: {self.message}{rid}"


class BadRequestError(APIStatusError):
    """400: the server rejected the request, e.g. an invalid webhook configuration."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or invalid."""


class ForbiddenError(APIStatusError):
    """403: the API key lacks the scope for this operation."""


class NotFoundError(APIStatusError):
    """404: no webhook with that id (or no such route)."""


class ConflictError(APIStatusError):
    """409: a webhook with this URL already exists (``resource_already_exists``)."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` says how many seconds to wait.

    Also raised by the client-side limiter, before any request, when waiting
    for a free slot alone would exceed the call's timeout; then
    ``error_code`` is ``client_rate_limited``.
    """


class ServerError(APIStatusError):
    """5xx: Lettr (or a proxy in front of it) failed."""


class ValidationError(LettrError, ValueError):
    """Invalid arguments: raised locally before any request, or by a 422.

    ``errors`` maps each offending field to its messages, the same shape as
    the server's 422 body. A local one (``status_code`` None: nothing was
    sent) is also a ``ValueError``, as in Lettr's own SDK; the server's 422 is
    an ``UnprocessableEntityError``, both a ``ValidationError`` and an
    ``APIStatusError``.
    """

    error_code: str | None
    errors: dict[str, list[str]]
    headers: Mapping[str, str]
    request_id: str | None
    body: Any

    def __init__(
        self,
        message: str,
        *,
        errors: Mapping[str, list[str]] | None = None,
        status_code: int | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> None:
        LettrError.__init__(self, message)
        self.errors = {field: list(msgs) for field, msgs in (errors or {}).items()}
        self._status_code = status_code
        self.error_code = "validation_error"
        self.headers = CIMultiDictProxy(CIMultiDict(headers or {}))
        self.request_id = find_request_id(self.headers)
        self.body = body

    @property
    def status_code(self) -> int | None:
        """422 when the server refused the request, None when caught locally (nothing sent)."""
        return self._status_code

    def __str__(self) -> str:
        details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in self.errors.items())
        text = self.message
        if self.status_code is not None:
            rid = f" (request id {self.request_id})" if self.request_id else ""
            text = f"{self.status_code} validation_error: {text}{rid}"
        return f"{text} ({details})" if details else text


# ValidationError.status_code is a read-only Optional (None: caught locally), here
# always 422; a property, so mypy still narrows ``isinstance(exc, APIStatusError)``.
class UnprocessableEntityError(ValidationError, APIStatusError):  # type: ignore[misc]
    """422 from the server: a ``ValidationError`` and an ``APIStatusError`` at once."""

    def __init__(
        self,
        message: str,
        *,
        errors: Mapping[str, list[str]] | None = None,
        status_code: int = 422,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        error_code: str | None = "validation_error",
        retry_after: float | None = None,
    ) -> None:
        ValidationError.__init__(
            self, message, errors=errors, status_code=status_code, headers=headers, body=body
        )
        self.error_code = error_code or "validation_error"
        self.retry_after = retry_after


class NotAttemptedError(LettrError):
    """A bulk item never sent: ``fail_fast`` stopped the batch, or it was cancelled first."""


class InsecureBaseURLWarning(UserWarning):
    """``base_url`` is plain ``http://`` to a host other than this machine.

    The API key (and any webhook credentials) would cross the network
    unencrypted. Issued when the client is created; loopback hosts
    (``127.0.0.1``, ``::1``, ``localhost``), where test servers live, are
    exempt. Silence it with ``warnings.filterwarnings`` if the clear-text
    hop is intended (a TLS-terminating sidecar on another host).
    """


CLIENT_RATE_LIMITED = "client_rate_limited"
"""``error_code`` of a ``RateLimitError`` raised by the client-side limiter."""

_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


REQUEST_ID_HEADER = istr("X-Request-Id")
ALT_REQUEST_ID_HEADER = istr("Request-Id")
"""The request id headers: ``istr`` keys, so aiohttp's case-insensitive headers look
them up without case-folding the name on every response (plain dicts match as str)."""


def find_request_id(headers: Mapping[str, str]) -> str | None:
    """The server's request id (``X-Request-Id``, else ``Request-Id``); hooks inline it."""
    return headers.get(REQUEST_ID_HEADER) or headers.get(ALT_REQUEST_ID_HEADER) or None


def error_for_status(
    status: int,
    body: Any,
    headers: Mapping[str, str],
    *,
    reason: str | None = None,
    retry_after: float | None = None,
) -> LettrError:
    """Map an HTTP error answer to its typed exception (one place, one rule).

    ``body`` is the decoded JSON body, or None/a string for non-JSON bodies
    (an HTML 502 page still becomes a ``ServerError``).
    """
    message, error_code = _message_and_code(status, body, reason)
    if status == 422 or error_code == "validation_error":
        raw = body.get("errors") if isinstance(body, dict) else None
        return UnprocessableEntityError(
            message,
            errors=_clean_field_errors(raw),
            status_code=status,
            headers=headers,
            body=body,
            error_code=error_code,
        )
    cls = _STATUS_ERRORS.get(status) or (ServerError if status >= 500 else APIStatusError)
    return cls(
        message,
        status_code=status,
        error_code=error_code,
        headers=headers,
        body=body,
        retry_after=retry_after,
    )


def _message_and_code(status: int, body: Any, reason: str | None) -> tuple[str, str | None]:
    fallback = f"HTTP {status} {reason or ''}".strip()
    if not isinstance(body, dict):
        return fallback + " (no JSON error body)", None
    message, code = body.get("message"), body.get("error_code")
    code = code if isinstance(code, str) and code else None
    return (message if isinstance(message, str) and message else fallback), code


def _clean_field_errors(raw: Any) -> dict[str, list[str]]:
    if not isinstance(raw, dict):
        return {}
    return {
        str(field): [str(m) for m in msgs] if isinstance(msgs, list) else [str(msgs)]
        for field, msgs in raw.items()
    }
