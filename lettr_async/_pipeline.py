"""The request pipeline: the one path every API call takes.

``Pipeline.send(request, options)`` is the whole internal interface that
resources use (through ``ApiChannel``): a resource describes an operation
as an ``ApiRequest`` and gets the decoded JSON body back, or one of our
typed errors. Single calls and bulk items go through the very same method.

One call, in order; each step reports to the client's observability hooks
(``lettr_async.hooks``) through one ``CallTracker`` when anything listens:

1. ``deadline = clock.now() + timeout``: one budget for all attempts and
   waits, on the limiter's clock (``RateLimiter.clock``: real time, or the
   simulated time a test gives the limiter; every wait below uses it);
2. per attempt: wait for the rate limiter (``acquire`` fails at once when
   the slot is past the deadline), send with the time that is left,
   ``observe`` the response headers, pause the limiter after a 429;
3. on failure ``RetryPolicy.decide`` says whether and after how long to
   retry; a retry that cannot start before the deadline is not attempted.
   The raised error carries ``attempts`` (requests sent) and ``elapsed``.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._redact import redact
from ._retry import RetryPolicy
from ._sentinel import NOT_GIVEN, NotGiven
from ._validation import SECRET_FIELDS, check_max_retries, check_timeout
from .errors import APITimeoutError, LettrError, RateLimitError
from .hooks import NO_HOOKS, Hooks, capturing
from .ratelimit._limiter import Lane, RateLimiter, current_lane

if TYPE_CHECKING:
    from ._transport import HttpSessions
    from .hooks import CallTracker

__all__ = ["ApiChannel", "ApiRequest", "CallOptions", "Pipeline"]

logger = logging.getLogger("lettr_async")


@attrs.frozen
class ApiRequest:
    """One API operation: method, path (already encoded) and JSON body.

    The body is left out of the repr: it may hold webhook credentials.
    """

    method: str
    path: str
    body: Mapping[str, Any] | None = attrs.field(default=None, repr=False)

    @property
    def idempotent(self) -> bool:
        """Whether repeating it is harmless (everything but POST)."""
        return self.method != "POST"

    @property
    def secrets(self) -> tuple[str, ...]:
        """The webhook credentials this request sends, to redact from its errors."""
        body = self.body or {}
        return tuple(v for k, v in body.items() if k in SECRET_FIELDS and isinstance(v, str))


@attrs.frozen
class CallOptions:
    """Per-call settings; ``with_options`` and per-call arguments override them."""

    timeout: float | None
    max_retries: int

    def override(
        self,
        timeout: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> CallOptions:
        """These options with the given ones replaced (validated)."""
        if isinstance(timeout, NotGiven) and isinstance(max_retries, NotGiven):
            return self
        return CallOptions(
            timeout=self.timeout if isinstance(timeout, NotGiven) else check_timeout(timeout),
            max_retries=(
                self.max_retries
                if isinstance(max_retries, NotGiven)
                else check_max_retries(max_retries)
            ),
        )


class Pipeline:
    """Limiter, transport and retries for every request of one client."""

    def __init__(
        self,
        *,
        base_url: str,
        limiter: RateLimiter,
        retry_policy: RetryPolicy,
        sessions: Callable[[], HttpSessions],
        hooks: Hooks = NO_HOOKS,
        rand: Callable[[], float] = random.random,
        secrets: tuple[str, ...] = (),
    ) -> None:
        from . import _transport  # aiohttp loads here, at client construction

        self._transport = _transport
        self.base_url = base_url
        self.limiter = limiter
        self.retry_policy = retry_policy
        self._sessions = sessions
        self.hooks = hooks
        self._rand = rand
        self._secrets = secrets  # the API key: redacted from every error, with the call's own

    async def send(self, request: ApiRequest, options: CallOptions) -> Any:
        """Run one call to completion: the decoded JSON body, or a typed error.

        One coroutine for the whole call: every layer would cost on every
        call. When a hook or a ``capture_response`` block listens, a tracker
        hears, per attempt, ``rate_limit_wait`` (when the limiter held the
        request), ``request`` and ``response``; ``retry`` before each retry's
        sleep; and ``end`` exactly once, whatever ends the call. When nothing
        listens, no tracker is made.
        """
        hooks = self.hooks
        tracker: CallTracker | None = (
            hooks.start_call(request.method, request.path, self.base_url)
            if hooks.active or capturing()
            else None
        )
        transport = self._transport
        limiter = self.limiter
        timer = limiter.clock
        clock = timer.now
        started = clock()
        lane = current_lane.get()
        timeout = options.timeout
        # Bulk items queue behind each other by design: their budget starts
        # when their first slot is granted, interactive calls' at once.
        deadline = None if timeout is None or lane is Lane.BULK else started + timeout
        url = self.base_url + request.path
        body = request.body
        payload = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        debug = logger.isEnabledFor(logging.DEBUG)
        attempt = sent = 0
        try:
            while True:
                attempt += 1
                requested = False
                failure: LettrError
                try:
                    # The limiter contract: a deadline for interactive calls only.
                    waited = (
                        0.0
                        if limiter.take_free_now(lane)
                        else await limiter.acquire(
                            lane, deadline=deadline if lane is Lane.INTERACTIVE else None
                        )
                    )
                    if waited > _WAIT_WORTH_REPORTING and tracker is not None:
                        tracker.rate_limit_wait(attempt, waited, lane.name.lower())
                    now = clock()
                    if deadline is None and timeout is not None:
                        deadline = now + timeout
                    remaining = None if deadline is None else deadline - now
                    if remaining is not None and remaining <= 0:
                        raise APITimeoutError(f"{request.method} {request.path} timed out")
                    sessions = self._sessions()
                    sent += 1
                    requested = True
                    if tracker is not None:
                        tracker.request(attempt)
                    reply = await transport.send(
                        sessions,
                        request.method,
                        url,
                        body=payload,
                        timeout=remaining,
                        idempotent=request.idempotent,
                    )
                    status = reply.status
                    if debug:
                        what = f"{request.method} {request.path}"
                        logger.debug("%s -> %d in %.1f ms", what, status, 1000 * (clock() - now))
                    limiter.observe(reply.headers)
                    if 200 <= status < 300:
                        result = transport.decode_success(reply)
                        if tracker is not None:
                            tracker.response(attempt, status, reply.headers)
                        break
                    failure = transport.error_for_response(reply)
                    if isinstance(failure, RateLimitError):
                        # Hold every request of this client, not just this one's retry.
                        wait = 1.0 if failure.retry_after is None else failure.retry_after
                        limiter.pause(self.retry_policy.cap_retry_after(wait))
                except LettrError as exc:
                    failure = exc
                redact(failure, self._secrets + request.secrets)
                if requested and tracker is not None:  # this attempt went out: it has an outcome
                    tracker.response(attempt, error=failure)
                delay = self.retry_policy.decide(
                    failure,
                    attempt,
                    max_retries=options.max_retries,
                    idempotent=request.idempotent,
                    rand=self._rand(),
                )
                now = clock()
                if delay is not None and deadline is not None and now + delay >= deadline:
                    delay = None  # the retry could not even start within the timeout
                what = f"{request.method} {request.path}"
                if delay is None:
                    raise _finish(failure, what, sent, now - started, timeout)
                logger.debug(
                    "%s: attempt %d of %d failed (%s); retrying in %.2fs",
                    what,
                    attempt,
                    options.max_retries + 1,
                    _reason(failure),
                    delay,
                )
                if tracker is not None:
                    tracker.retry(attempt, delay, failure)
                await timer.sleep(delay)
        except BaseException as exc:
            if tracker is not None and tracker.ends:
                tracker.end(exc)
            raise
        if tracker is not None and tracker.ends:
            tracker.end()
        return result


class ApiChannel:
    """What a resource holds: the pipeline plus the defaults of one client view.

    ``send(request, options)`` is ``Pipeline.send`` itself (bound once, so a
    call pays for no extra coroutine layer).
    """

    __slots__ = ("defaults", "pipeline", "send")

    def __init__(self, pipeline: Pipeline, defaults: CallOptions) -> None:
        self.pipeline = pipeline
        self.defaults = defaults
        self.send: Callable[[ApiRequest, CallOptions], Awaitable[Any]] = pipeline.send

    def options(self, timeout: float | NotGiven | None, max_retries: int | NotGiven) -> CallOptions:
        """The effective options of one call (validated)."""
        return self.defaults.override(timeout, max_retries)


_WAIT_WORTH_REPORTING = 0.001  # seconds; shorter limiter waits are scheduling noise


def _finish(
    failure: LettrError, what: str, attempts: int, elapsed: float, timeout: float | None
) -> LettrError:
    failure.attempts = attempts
    failure.elapsed = elapsed
    if isinstance(failure, APITimeoutError):
        failure.message = (
            f"{what} timed out: {attempts} attempt{'s' if attempts != 1 else ''} "
            f"in {elapsed:.2f}s (timeout {timeout}s)"
        )
    return failure


def _reason(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return f"HTTP {status}"
    return type(exc).__name__
