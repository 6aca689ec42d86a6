"""When and how long to retry, on top of tenacity.

tenacity was picked over a hand-written loop and over stamina because it is
small, typed, has a native ``AsyncRetrying`` that sleeps with whatever we
give it (``anyio.sleep``), lets the wait be computed from the failed
attempt (so ``Retry-After`` wins over the jittered exponential backoff), and
logs through a hook we control (stamina logs warnings through global hooks).

What is retried:

* idempotent calls (list, get, update, delete): connection errors, timeouts,
  429, 502, 503 and 504;
* ``create`` (POST) only when the request provably never left this machine
  (connection refused, DNS failure). After a timeout or a dropped
  connection the webhook may have been created, and a blind retry would
  answer 409 ``resource_already_exists`` for our own first attempt, or make
  a duplicate; the caller is better placed to check with ``list()``.
* never 400, 401, 403, 404, 409 or 422: the same request would fail again.
"""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

import attrs

from .errors import CLIENT_RATE_LIMITED, APIConnectionError, APIStatusError

if TYPE_CHECKING:
    from tenacity import AsyncRetrying, RetryCallState

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy", "is_retryable", "parse_retry_after"]

logger = logging.getLogger("lettr_async")

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


@attrs.frozen
class RetryPolicy:
    """Backoff settings: jittered exponential, capped; ``Retry-After`` wins.

    ``max_retry_after`` caps how long a server may make us wait per retry:
    a proxy answering ``Retry-After: 86400`` must not freeze a web request.
    """

    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    max_retry_after: float = 60.0

    def wait(self, retry_state: RetryCallState) -> float:
        """Seconds to sleep before the next attempt (a tenacity wait strategy)."""
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, (int, float)):
            return min(max(0.0, float(retry_after)), self.max_retry_after)
        from tenacity import wait_random_exponential

        jittered = wait_random_exponential(multiplier=self.backoff_initial, max=self.backoff_max)
        return float(jittered(retry_state))

    def retrying(self, *, max_retries: int, idempotent: bool, what: str) -> AsyncRetrying:
        """A tenacity controller for one call of ``what`` (e.g. ``GET /webhooks``).

        tenacity is imported here, on the first failure: calls that succeed at
        once (almost all) never pay for it, at import time or per call.
        """
        import anyio
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

        def log_retry(retry_state: RetryCallState) -> None:
            exc = retry_state.outcome.exception() if retry_state.outcome else None
            delay = retry_state.next_action.sleep if retry_state.next_action else 0.0
            logger.debug(
                "%s: attempt %d of %d failed (%s); retrying in %.2fs",
                what,
                retry_state.attempt_number,
                max_retries + 1,
                _reason(exc),
                delay,
            )

        return AsyncRetrying(
            stop=stop_after_attempt(max_retries + 1),
            wait=self.wait,
            retry=retry_if_exception(lambda exc: is_retryable(exc, idempotent=idempotent)),
            before_sleep=log_retry,
            sleep=anyio.sleep,
            reraise=True,
        )


def is_retryable(exc: BaseException, *, idempotent: bool) -> bool:
    """Whether a failed attempt may be repeated (see the module docstring)."""
    if isinstance(exc, APIConnectionError):
        return idempotent or not exc.request_sent
    if isinstance(exc, APIStatusError):
        if exc.error_code == CLIENT_RATE_LIMITED:
            return False  # our own limiter said the wait exceeds the timeout
        return idempotent and exc.status_code in RETRYABLE_STATUSES
    return False


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _reason(exc: BaseException | None) -> str:
    if isinstance(exc, APIStatusError):
        return f"HTTP {exc.status_code}"
    if exc is None:
        return "unknown"
    return type(exc).__name__
