"""When to retry a failed attempt and after how long: a pure decision.

``RetryPolicy.decide`` takes the failure, the attempt number and a random
number and returns the delay before the next attempt, or None to give up.
It does no I/O and reads no clock, so every rule is unit-tested directly;
the request pipeline (``_pipeline.py``) owns the loop, the sleeping and the
overall deadline. A hand-written loop replaced tenacity: the loop is ten
lines, and the rules here are what needs care.

What is retried:

* idempotent calls (list, get, update, delete): connection errors, timeouts,
  429, 502, 503 and 504;
* ``create`` (POST) after a 429 (the server provably did not process it) or
  when the request provably never left this machine (connection refused,
  DNS failure). After a timeout or a dropped connection the webhook may
  exist, and a blind retry could duplicate it;
* never a TLS certificate failure (it would fail the same way), nor 400,
  401, 403, 404, 409 or 422, nor the client-side limiter's
  ``client_rate_limited`` (the wait is beyond the call's timeout).
"""

from __future__ import annotations

import math
import time
from email.utils import parsedate_to_datetime

import attrs

from ._validation import check_seconds
from .errors import (
    CLIENT_RATE_LIMITED,
    APIConnectionError,
    APIStatusError,
    TLSCertificateError,
)

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy", "is_retryable", "parse_retry_after"]

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


def _non_negative_finite(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    check_seconds(attribute.name, value)


@attrs.frozen
class RetryPolicy:
    """Backoff settings: jittered exponential, capped; ``Retry-After`` wins.

    ``max_retry_after`` caps how long a server may make us wait, per retry
    and for the client-wide pause after a 429: a proxy answering
    ``Retry-After: 86400`` must not freeze the client.
    """

    backoff_initial: float = attrs.field(default=0.5, validator=_non_negative_finite)
    backoff_max: float = attrs.field(default=8.0, validator=_non_negative_finite)
    max_retry_after: float = attrs.field(default=60.0, validator=_non_negative_finite)

    def backoff(self, attempt: int, rand: float) -> float:
        """Full-jitter exponential backoff after failed attempt ``attempt`` (1-based)."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2.0 ** min(attempt - 1, 60))
        return ceiling * min(max(rand, 0.0), 1.0)

    def cap_retry_after(self, seconds: float) -> float:
        """A server-requested wait, clamped to ``[0, max_retry_after]`` (NaN-safe)."""
        if not seconds >= 0:  # NaN or negative
            return 0.0
        return min(seconds, self.max_retry_after)

    def decide(
        self,
        failure: BaseException,
        attempt: int,
        *,
        max_retries: int,
        idempotent: bool,
        rand: float,
    ) -> float | None:
        """Seconds to wait before retrying, or None to give up.

        ``attempt`` is the number of the attempt that failed (1-based), so at
        most ``max_retries + 1`` attempts are made; ``rand`` in [0, 1] drives
        the jitter.
        """
        if attempt > max_retries or not is_retryable(failure, idempotent=idempotent):
            return None
        retry_after = getattr(failure, "retry_after", None)
        if isinstance(retry_after, (int, float)) and not isinstance(retry_after, bool):
            return self.cap_retry_after(float(retry_after))
        return self.backoff(attempt, rand)


def is_retryable(exc: BaseException, *, idempotent: bool) -> bool:
    """Whether a failed attempt may be repeated (see the module docstring)."""
    if isinstance(exc, TLSCertificateError):
        return False
    if isinstance(exc, APIConnectionError):
        return idempotent or not exc.request_sent
    if isinstance(exc, APIStatusError):
        if exc.error_code == CLIENT_RATE_LIMITED:
            return False
        if exc.status_code == 429:
            return True  # a 429 was provably not processed, even for a create
        return idempotent and exc.status_code in RETRYABLE_STATUSES
    return False


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date.

    Never raises; absurd values (``inf``, ``1e400``) come back as ``inf``
    and are capped by the policy, never slept on as they are.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return None if math.isnan(seconds) else max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value)
        stamp = when.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, stamp - (time.time() if now is None else now))
