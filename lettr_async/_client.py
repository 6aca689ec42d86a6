"""``AsyncLettr``: configuration and session lifecycle.

Every API call goes through the pipeline (``_pipeline.py``): rate limiter,
send, map errors, retry. Resources (``client.webhooks``) only validate,
build an ``ApiRequest`` and structure the results.

Session lifecycle, and why it looks like this:

* The aiohttp sessions are created lazily inside the running loop and
  reused for every request (keep-alive pool).
* Pooled connections belong to one event loop. When the loop that owns the
  sessions ends, a guardian (``_loopguard``: an async generator that
  ``loop.shutdown_asyncgens()`` closes, as ``asyncio.run`` and anyio do)
  closes them while the loop is still alive, so a module-level client used
  by two ``asyncio.run`` calls just opens fresh sessions in the second
  loop, without "Event loop is closed" or "attached to a different loop"
  errors, and without any private API of aiohttp or asyncio.
* Using the client from a second loop while the first is still running is
  refused with a clear ``LettrError``: connections cannot be shared.
* A hand-managed loop closed without ``aclose()`` or
  ``shutdown_asyncgens()`` leaves its sessions unclosed (aiohttp warns
  "Unclosed client session"); docs/async-services.md argues this choice
  against binding a client to one loop.
* ``http_session=``: a caller's session is used as it is and never closed;
  it belongs to its own loop, which is the caller's business.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import ssl
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._loopguard import LoopGuard
from ._pipeline import ApiChannel, CallOptions, Pipeline
from ._retry import RetryPolicy
from ._sentinel import NOT_GIVEN, NotGiven
from ._validation import (
    API_KEY_ENV,
    check_api_key,
    check_base_url,
    check_hooks,
    check_max_retries,
    check_positive_int,
    check_rate_limit,
    check_timeout,
    check_verify,
    invalid,
)
from .errors import InsecureBaseURLWarning, LettrError
from .models import RateLimitInfo
from .ratelimit import RateStore, open_store
from .ratelimit._limiter import RateLimiter
from .resources.webhooks import AsyncWebhooks

if TYPE_CHECKING:
    import aiohttp

    from ._transport import HttpSessions
    from .hooks import Hooks

__all__ = ["DEFAULT_BASE_URL", "NOT_GIVEN", "AsyncLettr", "NotGiven"]

logger = logging.getLogger("lettr_async")

DEFAULT_BASE_URL = "https://app.lettr.com/api"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_RATE_LIMIT = 3.0
DEFAULT_CONNECTION_LIMIT = 100
BASE_URL_ENV = "LETTR_BASE_URL"


class _SharedState:
    """What a client and all its ``with_options`` views share."""

    def __init__(
        self,
        *,
        base_url: str,
        headers: dict[str, str],
        limiter: RateLimiter,
        connection_limit: int,
        ssl_context: ssl.SSLContext | None,
        borrowed: HttpSessions | None,
    ) -> None:
        self.headers = headers
        self.connection_limit = connection_limit
        self.ssl_context = ssl_context
        self.http = borrowed
        self.guard: LoopGuard | None = None
        self.borrowed = borrowed is not None
        self.session_loop = _running_loop() if self.borrowed else None
        self.closed = False
        self.base_url = base_url
        self.limiter = limiter

    def __repr__(self) -> str:
        return f"<lettr_async client state for {self.base_url!r}>"

    def session_for_running_loop(self) -> HttpSessions:
        if self.closed:
            raise LettrError("this client has been closed; create a new AsyncLettr")
        if self.ssl_context is not None:
            check_verify(self.ssl_context)  # the caller may have turned checks off since
        loop = asyncio.get_running_loop()
        guard, http = self.guard, self.http
        if self.borrowed and http is not None:
            return self._borrowed_in(loop, http)
        if guard is not None and http is not None and not guard.finished:
            if guard.loop is loop:
                return http
            if guard.busy_elsewhere:
                raise LettrError(
                    "this AsyncLettr is in use by another running event loop; connections "
                    "cannot be shared between loops: create one client per event loop"
                )
            guard.drop()  # its loop ended, stopped or belongs to a parent process
        from ._transport import open_sessions

        self.http = open_sessions(
            self.headers, self.connection_limit, self.ssl_context, self.base_url
        )
        self.guard = LoopGuard(self.http.close)
        return self.http

    def _borrowed_in(self, loop: asyncio.AbstractEventLoop, http: HttpSessions) -> HttpSessions:
        """The caller's session, refused before sending when closed or in another loop.

        aiohttp has no public way to ask a session for its loop: the one the
        client was created in (or made its first call in) stands for it.
        """
        if http.closed:
            raise LettrError("the http_session given to this AsyncLettr has been closed")
        self.session_loop = self.session_loop or loop
        if self.session_loop is not loop:
            raise LettrError(
                "the http_session given to this AsyncLettr belongs to the event loop that "
                "created it; this call runs in another one"
            )
        return http

    async def close(self) -> None:
        self.closed = True
        guard, self.guard = self.guard, None
        try:
            if guard is not None and not guard.finished:
                await guard.close()
        finally:
            await self.limiter.aclose()


class AsyncLettr:
    """Async client for the Lettr webhooks API.

    ``api_key`` falls back to ``$LETTR_API_KEY`` and ``base_url`` to
    ``$LETTR_BASE_URL``, then ``https://app.lettr.com/api``. ``timeout``
    (seconds for a whole call, all retries and waits included; None for no
    timeout) and ``max_retries`` apply to each call unless overridden per
    call or with ``with_options``. ``rate_limit`` is the starting budget in
    requests per second (Lettr's default is 3; the client follows
    ``X-RateLimit-Limit`` from then on), or None to disable pacing; the last
    headers the server sent are in ``rate_limit_info``. ``verify`` is True
    (system CAs), a CA bundle path or an ``ssl.SSLContext`` that checks
    certificates and host names (verification cannot be turned off; a plain
    ``http://`` base URL other than loopback warns); proxies come
    from ``HTTP_PROXY``/``HTTPS_PROXY``/``NO_PROXY``. ``hooks``
    (``lettr_async.hooks.Hooks``) observe every call, attempt, retry and
    rate-limit wait; ``with_options`` views share them.
    ``rate_limit_store`` shares the rate budget between processes and hosts
    of one team (Lettr's limit is per team): a URL (``sqlite:///abs/path.db``,
    ``redis://host:6379/0``, ``rediss://``, ``unix://``) or a ``RateStore``;
    it falls back to ``$LETTR_RATE_LIMIT_URL``, then to this process only.

    ``http_session`` is your own ``aiohttp.ClientSession`` (your connector,
    proxies, ``TraceConfig``s) for every request of this client and its
    views; the client never closes it (docs/configuration.md says what it
    cannot enforce on it), and ``connection_limit`` is then yours to set on it.

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
        connection_limit: int = DEFAULT_CONNECTION_LIMIT,
        retry_policy: RetryPolicy | None = None,
        verify: bool | str | os.PathLike[str] | ssl.SSLContext = True,
        hooks: Hooks | None = None,
        rate_limit_store: str | RateStore | None = None,
        http_session: aiohttp.ClientSession | None = None,
    ) -> None:
        key = check_api_key(api_key if api_key is not None else os.environ.get(API_KEY_ENV))
        url = check_base_url(base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL)
        _warn_if_cleartext(url)
        defaults = CallOptions(
            timeout=check_timeout(timeout), max_retries=check_max_retries(max_retries)
        )
        budget = check_rate_limit(rate_limit)
        limit = check_positive_int("connection_limit", connection_limit)
        ssl_context = check_verify(verify)
        headers = {
            **_check_headers(default_headers),
            "Authorization": f"Bearer {key}",
            "Accept": "application/json",
        }
        observers = check_hooks(hooks)
        borrowed = _borrow(http_session, connection_limit, ssl_context, headers)
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            raise invalid("retry_policy", "must be a RetryPolicy.")
        policy = retry_policy or RetryPolicy()
        self._state = _SharedState(
            base_url=url,
            headers=headers,
            limiter=RateLimiter(
                budget,
                max_pause=policy.max_retry_after,
                store=open_store(rate_limit_store, api_key=key, base_url=url),
            ),
            connection_limit=limit,
            ssl_context=ssl_context,
            borrowed=borrowed,
        )
        # The pipeline holds the state (for sessions), never the reverse: no
        # reference cycle, so a dropped client is released by refcounting.
        pipeline = Pipeline(
            base_url=url,
            limiter=self._state.limiter,
            retry_policy=policy,
            sessions=self._state.session_for_running_loop,
            hooks=observers,
            secrets=(key,),
        )
        self._channel = ApiChannel(pipeline, defaults)
        self._bind_resources()

    def _bind_resources(self) -> None:
        self.webhooks = AsyncWebhooks(self._channel)

    # -- configuration -------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API root every path is relative to."""
        return self._state.base_url

    @property
    def timeout(self) -> float | None:
        """Default timeout of a whole call in seconds (None: no timeout)."""
        return self._channel.defaults.timeout

    @property
    def max_retries(self) -> int:
        """Default number of retries after the first attempt."""
        return self._channel.defaults.max_retries

    @property
    def rate_limit(self) -> float | None:
        """The configured starting budget in requests per second (None: no pacing)."""
        return self._state.limiter.per_second

    @property
    def rate_limit_info(self) -> RateLimitInfo:
        """The last ``X-RateLimit-Limit/Remaining/Reset`` the server sent."""
        return self._state.limiter.info

    def with_options(
        self,
        *,
        timeout: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncLettr:
        """A view of this client with other defaults, sharing session and limiter.

        Closing a view closes the shared session too.
        """
        view = object.__new__(type(self))
        view._state = self._state
        view._channel = ApiChannel(
            self._channel.pipeline, self._channel.defaults.override(timeout, max_retries)
        )
        view._bind_resources()
        return view

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    # -- lifecycle ------------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        """True once ``aclose()`` has been called."""
        return self._state.closed

    async def aclose(self) -> None:
        """Close the HTTP session; the client cannot be used afterwards."""
        await self._state.close()

    async def __aenter__(self) -> AsyncLettr:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _borrow(
    session: Any,
    connection_limit: int,
    ssl_context: ssl.SSLContext | None,
    headers: Mapping[str, str],
) -> HttpSessions | None:
    """The caller's session, checked before anything is opened; None when there is none."""
    if session is None:
        return None
    if connection_limit != DEFAULT_CONNECTION_LIMIT:
        raise invalid(
            "connection_limit",
            "cannot be combined with http_session: set the limit on that session's connector.",
        )
    from ._transport import borrow

    return borrow(session, headers, ssl_context)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _warn_if_cleartext(url: str) -> None:
    """Warn (``InsecureBaseURLWarning``) when the key would cross a network unencrypted.

    Python's default filter shows it once per line that creates a client.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "http" and not _is_loopback(host):
        warnings.warn(
            f"base_url is plain http:// to {host}: the API key travels unencrypted; "
            "use https:// (only loopback hosts are exempt from this warning)",
            InsecureBaseURLWarning,
            stacklevel=3,
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_headers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and "\r" not in k + v and "\n" not in k + v
        for k, v in value.items()
    ):
        raise invalid("default_headers", "must map header names to single-line strings.")
    return dict(value)
