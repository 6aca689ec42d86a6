"""``AsyncLettr``: configuration, session lifecycle and the request pipeline.

Every API call goes through ``AsyncLettr._request``: rate limiter, send,
map errors, retry. Resources (``client.webhooks``) only build paths and
bodies and structure the results.

Session lifecycle, and why it looks like this:

* The aiohttp session is created lazily inside the running loop and reused
  for every request (keep-alive pool).
* Pooled connections belong to one event loop. When the loop that owns the
  session ends (``asyncio.run`` returning), a small guardian task that
  ``asyncio.run`` cancels closes the session while the loop is still alive,
  so a module-level client used by two ``asyncio.run`` calls just opens a
  fresh session in the second loop, without "Event loop is closed" or
  "attached to a different loop" errors.
* Using the client from a second loop while the first is still running is
  refused with a clear ``LettrError``: connections cannot be shared.
* Nothing is ever scheduled from ``__del__``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from ._ratelimit import Lane, RateLimiter, RateStore, current_lane, open_store
from ._retry import RetryPolicy, is_retryable
from .errors import LettrError, RateLimitError, ValidationError
from .models import RateLimitInfo

if TYPE_CHECKING:
    import aiohttp

    from .resources.webhooks import AsyncWebhooks

__all__ = ["DEFAULT_BASE_URL", "NOT_GIVEN", "AsyncLettr", "RequestOptions"]

logger = logging.getLogger("lettr_async")

DEFAULT_BASE_URL = "https://app.lettr.com/api"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_RATE_LIMIT = 3.0
API_KEY_ENV = "LETTR_API_KEY"
BASE_URL_ENV = "LETTR_BASE_URL"


class _Unset:
    """Marks an option that ``with_options`` leaves as it is."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Any = _Unset()


@attrs.frozen
class RequestOptions:
    """Per-call settings; ``with_options`` and per-call arguments override them."""

    timeout: float | None
    max_retries: int


class _Session:
    """The aiohttp session of one event loop, plus the guardian that closes it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, headers: Mapping[str, str], limit: int):
        from ._transport import open_http_session  # aiohttp loads on first use

        self.loop = loop
        self.http = open_http_session(headers, limit)
        self._guardian = loop.create_task(self._guard(), name="lettr-async session guardian")

    async def _guard(self) -> None:
        try:
            await asyncio.get_running_loop().create_future()
        finally:
            await self.http.close()

    @property
    def usable(self) -> bool:
        return not self.http.closed and not self._guardian.done()

    async def close(self) -> None:
        """Close the session from inside its own loop."""
        if not self._guardian.done():
            self._guardian.cancel()
        # wait() neither raises the guardian's CancelledError nor hides ours.
        await asyncio.wait([self._guardian])


class _SharedState:
    """What a client and all its ``with_options`` views share."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        headers: Mapping[str, str],
        limiter: RateLimiter,
        retry_policy: RetryPolicy,
        connection_limit: int,
    ) -> None:
        self.base_url = base_url
        self.headers = {
            **headers,
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
        }
        self.limiter = limiter
        self.retry_policy = retry_policy
        self.connection_limit = connection_limit
        self.session: _Session | None = None
        self.closed = False
        self.pid = os.getpid()

    def session_for_running_loop(self) -> aiohttp.ClientSession:
        if self.closed:
            raise LettrError("this client has been closed; create a new AsyncLettr")
        loop = asyncio.get_running_loop()
        current = self.session
        if current is not None and current.loop is loop and current.usable:
            return current.http
        if current is not None and current.usable and current.loop is not loop:
            if current.loop.is_running() and self.pid == os.getpid():
                raise LettrError(
                    "this AsyncLettr is in use by another running event loop; connections "
                    "cannot be shared between loops: create one client per event loop"
                )
            # The owning loop is stopped, closed or lives in a parent process:
            # its connections are unusable. Drop them without touching the loop.
            _abandon(current)
        self.pid = os.getpid()
        self.session = _Session(loop, self.headers, self.connection_limit)
        return self.session.http

    async def close(self) -> None:
        self.closed = True
        current, self.session = self.session, None
        if current is None or not current.usable:
            return
        if current.loop is asyncio.get_running_loop():
            await current.close()
        elif current.loop.is_running() and self.pid == os.getpid():
            future = asyncio.run_coroutine_threadsafe(current.close(), current.loop)
            await asyncio.wrap_future(future)
        else:
            _abandon(current)


_abandoned: list[_Session] = []


def _abandon(session: _Session) -> None:
    """Forget a session whose loop is gone, without waking that loop.

    Its connector is marked closed (aiohttp skips all I/O when the loop is
    closed) and the object is kept referenced so no ``__del__`` warns about
    transports that belonged to a dead loop or a parent process.
    """
    connector = session.http.connector
    if connector is not None and session.loop.is_closed():
        connector._close()  # aiohttp's synchronous path for a connector on a closed loop
    _abandoned.append(session)


class AsyncLettr:
    """Async client for the Lettr webhooks API.

    ``api_key`` falls back to ``$LETTR_API_KEY`` and ``base_url`` to
    ``$LETTR_BASE_URL``, then ``https://app.lettr.com/api``. ``timeout`` (in
    seconds, None for none) and ``max_retries`` apply to each call unless
    overridden per call or with ``with_options``. ``rate_limit`` is the
    starting budget in requests per second (Lettr's default is 3; the client
    follows ``X-RateLimit-Limit`` from then on), or None to disable pacing.
    ``rate_limit_store`` shares that budget between processes and hosts of
    one team (Lettr's limit is per team): a URL (``sqlite:///abs/path.db``,
    ``redis://host:6379/0``, ``rediss://``, ``unix://``) or a ``RateStore``;
    it falls back to ``$LETTR_RATE_LIMIT_URL``, then to this process only.

    Use it as ``async with AsyncLettr() as client:`` or call ``aclose()``.
    """

    webhooks: AsyncWebhooks
    """The webhooks resource: list, get, create, update, delete and bulk."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        rate_limit: float | None = DEFAULT_RATE_LIMIT,
        default_headers: Mapping[str, str] | None = None,
        connection_limit: int = 100,
        retry_policy: RetryPolicy | None = None,
        rate_limit_store: str | RateStore | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        if not key or not key.strip():
            raise ValidationError(
                "no Lettr API key: pass api_key='lttr_...' or set the LETTR_API_KEY "
                "environment variable",
                errors={"api_key": ["is required."]},
            )
        url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        parsed = urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValidationError(
                "base_url must be an absolute http(s) URL",
                errors={"base_url": ["must be an absolute http(s) URL."]},
            )
        self._defaults = RequestOptions(
            timeout=_check_timeout(timeout), max_retries=_check_retries(max_retries)
        )
        if rate_limit is not None and (not isinstance(rate_limit, (int, float)) or rate_limit <= 0):
            raise ValidationError(
                "rate_limit must be a positive number or None",
                errors={"rate_limit": ["must be a positive number of requests per second."]},
            )
        retry_policy = retry_policy or RetryPolicy()
        self._state = _SharedState(
            api_key=key.strip(),
            base_url=url.rstrip("/"),
            headers=default_headers or {},
            limiter=RateLimiter(
                rate_limit,
                max_pause=retry_policy.max_retry_after,
                store=open_store(rate_limit_store, api_key=key.strip(), base_url=url.rstrip("/")),
            ),
            retry_policy=retry_policy,
            connection_limit=connection_limit,
        )
        self._bind_resources()

    def _bind_resources(self) -> None:
        from .resources.webhooks import AsyncWebhooks

        self.webhooks = AsyncWebhooks(self)

    # -- configuration -------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API root every path is relative to."""
        return self._state.base_url

    @property
    def timeout(self) -> float | None:
        """Default per-call timeout in seconds (None: no timeout)."""
        return self._defaults.timeout

    @property
    def max_retries(self) -> int:
        """Default number of retries after the first attempt."""
        return self._defaults.max_retries

    @property
    def rate_limit(self) -> RateLimitInfo:
        """The last ``X-RateLimit-Limit/Remaining/Reset`` the server sent."""
        return self._state.limiter.info

    def with_options(
        self, *, timeout: float | None = NOT_GIVEN, max_retries: int = NOT_GIVEN
    ) -> AsyncLettr:
        """A view of this client with other defaults, sharing session and limiter.

        Closing a view closes the shared session too.
        """
        view = object.__new__(type(self))
        view._state = self._state
        view._defaults = RequestOptions(
            timeout=self._defaults.timeout if timeout is NOT_GIVEN else _check_timeout(timeout),
            max_retries=(
                self._defaults.max_retries
                if max_retries is NOT_GIVEN
                else _check_retries(max_retries)
            ),
        )
        view._bind_resources()
        return view

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._state.base_url!r})"

    # -- lifecycle ------------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        """True once ``aclose()`` has been called."""
        return self._state.closed

    async def aclose(self) -> None:
        """Close the HTTP session; the client cannot be used afterwards."""
        await self._state.close()
        await self._state.limiter.aclose()

    async def __aenter__(self) -> AsyncLettr:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- the request pipeline -----------------------------------------------------

    def _options(self, timeout: float | None, max_retries: int | None) -> RequestOptions:
        if timeout is None and max_retries is None:
            return self._defaults
        return RequestOptions(
            timeout=self._defaults.timeout if timeout is None else _check_timeout(timeout),
            max_retries=(
                self._defaults.max_retries if max_retries is None else _check_retries(max_retries)
            ),
        )

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        idempotent: bool,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> Any:
        """Send ``method path`` with retries; return the decoded JSON body."""
        from ._transport import decode_success, raise_for_status, send

        options = self._options(timeout, max_retries)
        state = self._state
        url = state.base_url + path
        payload = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        lane = current_lane.get()
        what = f"{method} {path}"

        async def attempt() -> Any:
            # Interactive calls fail early rather than queue past their timeout.
            max_wait = options.timeout if lane is Lane.INTERACTIVE else None
            deadline = None if max_wait is None else time.monotonic() + max_wait
            await state.limiter.acquire(lane, deadline=deadline)
            session = state.session_for_running_loop()
            started = time.perf_counter()
            response = await send(session, method, url, body=payload, timeout=options.timeout)
            logger.debug(
                "%s -> %d in %.1f ms", what, response.status, 1000 * (time.perf_counter() - started)
            )
            state.limiter.observe(response.headers)
            try:
                raise_for_status(response)
            except RateLimitError as exc:
                # Hold every request of this client, not just this one's retry.
                state.limiter.pause(exc.retry_after if exc.retry_after is not None else 1.0)
                raise
            return decode_success(response)

        # Fast path: most calls succeed at once, and building and driving a
        # tenacity controller costs more than the rest of this method. Only a
        # retryable failure enters tenacity, which replays that failure as its
        # first attempt, so numbering, waits and logs are unchanged.
        try:
            return await attempt()
        except LettrError as exc:
            if options.max_retries == 0 or not is_retryable(exc, idempotent=idempotent):
                raise
            first_failure: LettrError | None = exc
        retrying = state.retry_policy.retrying(
            max_retries=options.max_retries, idempotent=idempotent, what=what
        )
        async for try_ in retrying:
            with try_:
                if first_failure is not None:
                    failure, first_failure = first_failure, None
                    raise failure
                result = await attempt()
        return result


def _check_timeout(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValidationError(
            "timeout must be a positive number of seconds or None",
            errors={"timeout": ["must be a positive number of seconds or None."]},
        )
    return float(value)


def _check_retries(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(
            "max_retries must be a non-negative integer",
            errors={"max_retries": ["must be a non-negative integer."]},
        )
    return value
