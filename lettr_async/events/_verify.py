"""Authenticity checks for webhook deliveries.

Lettr authenticates deliveries with the credentials configured on the webhook
(``Authorization: Basic`` or, for OAuth 2, ``Authorization: Bearer``); an
earlier version of its docs described an HMAC ``Lettr-Signature`` header.
Every comparison here goes through ``hmac.compare_digest`` so response timing
does not reveal how much of a guess was right, and no secret is ever put in
an exception, a repr or a log line.

Each check comes in two spellings with one behaviour: ``verify_*`` returns
``True``/``False`` (so ``if not verify_signature(...): return 401`` is
right), and ``require_*`` returns nothing and raises
``WebhookVerificationError`` with a machine-readable ``reason`` instead.
Configuration mistakes (an empty secret, a NaN tolerance) raise
``ValueError`` from both, because they are bugs, not bad deliveries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import time
from typing import Final

from lettr_async.events._errors import WebhookVerificationError

__all__ = [
    "DEFAULT_TOLERANCE",
    "SIGNATURE_HEADER",
    "check_tolerance",
    "require_basic_auth",
    "require_bearer",
    "require_signature",
    "sign_payload",
    "verify_basic_auth",
    "verify_bearer",
    "verify_signature",
]

SIGNATURE_HEADER: Final = "Lettr-Signature"
"""Name of the HTTP header that carries the delivery signature."""

DEFAULT_TOLERANCE: Final = 300.0
"""Seconds a signed timestamp may differ from now before it is rejected (replays)."""


_MAX_TIMESTAMP_DIGITS: Final = 12
"""Unix seconds have 10 digits until the year 2286; longer ``t=`` values are malformed."""


def check_tolerance(tolerance: object) -> float:
    """Return ``tolerance`` as a float, or raise ``ValueError`` unless finite and >= 0.

    Why: ``abs(now - t) > nan`` is always false, so a NaN tolerance would
    accept every timestamp, replays included. Used by ``verify_signature``,
    ``require_signature`` and ``WebhookReceiver``.
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)):
        raise ValueError(f"tolerance must be a number of seconds, not {type(tolerance).__name__}")
    value = float(tolerance)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"tolerance must be a finite number of seconds >= 0, not {value!r}")
    return value


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def _credentials(authorization_header: str | None, scheme: str) -> str | None:
    """Return the credentials after ``scheme`` (case-insensitive), or ``None``."""
    if not authorization_header:
        return None
    parts = authorization_header.strip().split(None, 1)
    if len(parts) != 2 or parts[0].lower() != scheme:
        return None
    return parts[1].strip()


def verify_basic_auth(authorization_header: str | None, username: str, password: str) -> bool:
    """Tell whether an ``Authorization: Basic`` header carries exactly these credentials.

    For webhooks whose ``auth_type`` is ``basic``. The decoded
    ``user:password`` is compared as a whole in constant time; a missing
    header, another scheme or malformed base64 gives ``False``.
    """
    encoded = _credentials(authorization_header, "basic")
    if encoded is None:
        return False
    try:
        decoded = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return False
    expected = f"{username}:{password}".encode()
    return hmac.compare_digest(decoded, expected)


def verify_bearer(authorization_header: str | None, expected_token: str) -> bool:
    """Tell whether an ``Authorization: Bearer`` header carries ``expected_token``.

    For webhooks whose ``auth_type`` is ``oauth2`` when the receiver knows
    the token it issued. Constant-time; an empty expected token never matches.
    """
    token = _credentials(authorization_header, "bearer")
    if token is None or not expected_token:
        return False
    try:
        # aiohttp hands undecodable header bytes over as lone surrogates.
        presented = token.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(presented, expected_token.encode("utf-8"))


def require_basic_auth(authorization_header: str | None, username: str, password: str) -> None:
    """Like ``verify_basic_auth`` but raise ``WebhookVerificationError`` on failure.

    ``reason`` is ``missing_header`` when there is no ``Authorization``
    header and ``bad_credentials`` otherwise.
    """
    if not verify_basic_auth(authorization_header, username, password):
        raise _credentials_error(authorization_header)


def require_bearer(authorization_header: str | None, expected_token: str) -> None:
    """Like ``verify_bearer`` but raise ``WebhookVerificationError`` on failure."""
    if not verify_bearer(authorization_header, expected_token):
        raise _credentials_error(authorization_header)


def _credentials_error(authorization_header: str | None) -> WebhookVerificationError:
    reason = "missing_header" if not authorization_header else "bad_credentials"
    return WebhookVerificationError("missing or invalid Authorization credentials", reason=reason)


def _digest(timestamp: str, body: bytes, secret: bytes) -> str:
    return hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def sign_payload(body: bytes | str, secret: str | bytes, *, timestamp: int | None = None) -> str:
    """Return a ``Lettr-Signature`` header value (``t=<unix>,v1=<hex>``) for ``body``.

    Why: tests and local tools need correctly signed deliveries to exercise a
    receiver. ``timestamp`` defaults to now.
    """
    if not secret:
        raise ValueError("the signing secret must not be empty")
    ts = str(int(time.time()) if timestamp is None else int(timestamp))
    return f"t={ts},v1={_digest(ts, _as_bytes(body), _as_bytes(secret))}"


def verify_signature(
    body: bytes | str,
    signature_header: str | None,
    secret: str | bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """Tell whether a ``Lettr-Signature`` header is valid for ``body``: ``True`` or ``False``.

    Why a boolean: it reads like ``verify_basic_auth`` and ``verify_bearer``,
    so ``if not verify_signature(...)`` rejects exactly the bad deliveries.
    Use ``require_signature`` to learn *why* one failed. Raises
    ``ValueError`` only for configuration mistakes (empty secret, tolerance
    that is not a finite number >= 0).
    """
    try:
        require_signature(body, signature_header, secret, tolerance=tolerance, now=now)
    except WebhookVerificationError:
        return False
    return True


def require_signature(
    body: bytes | str,
    signature_header: str | None,
    secret: str | bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check a ``Lettr-Signature`` header; raise ``WebhookVerificationError`` if it fails.

    The header is ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``;
    several ``v1`` entries are allowed (the sender may sign with an old and a
    new secret while rotating) and one match suffices. ``body`` must be the
    raw bytes received (a ``str`` is UTF-8 encoded). Timestamps more than
    ``tolerance`` seconds (finite, >= 0) in the past or the future are
    rejected to stop replays. ``now`` exists for tests. Returns ``None``.
    """
    if not secret:
        raise ValueError("the signing secret must not be empty")
    limit = check_tolerance(tolerance)
    if not signature_header:
        raise WebhookVerificationError(
            f"missing {SIGNATURE_HEADER} header", reason="missing_header"
        )
    timestamps: list[str] = []
    candidates: list[bytes] = []
    for part in signature_header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "t":
            timestamps.append(value)
        elif key == "v1" and value:
            # surrogatepass: aiohttp hands undecodable header bytes over as lone
            # surrogates, which cannot match a hex digest but must not crash.
            candidates.append(value.lower().encode("utf-8", "surrogatepass"))
    if (
        len(timestamps) != 1
        or not timestamps[0].isdigit()
        or not timestamps[0].isascii()
        or len(timestamps[0]) > _MAX_TIMESTAMP_DIGITS
    ):
        raise WebhookVerificationError(
            f"malformed {SIGNATURE_HEADER} header: expected one numeric 't=' entry",
            reason="malformed_header",
        )
    if not candidates:
        raise WebhookVerificationError(
            f"malformed {SIGNATURE_HEADER} header: no 'v1=' signature",
            reason="malformed_header",
        )
    ts = timestamps[0]
    expected = _digest(ts, _as_bytes(body), _as_bytes(secret)).encode("ascii")
    matched = False
    for candidate in candidates:  # no early exit: every candidate costs the same
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise WebhookVerificationError(
            f"no {SIGNATURE_HEADER} signature matches the body", reason="no_matching_signature"
        )
    current = time.time() if now is None else now
    if not abs(current - int(ts)) <= limit:  # also rejects a NaN ``now``
        raise WebhookVerificationError(
            f"{SIGNATURE_HEADER} timestamp is outside the {limit:g} s tolerance",
            reason="timestamp_out_of_tolerance",
        )
