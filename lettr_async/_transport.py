"""One HTTP exchange over aiohttp, with every failure mapped to our errors.

This is the only module that touches aiohttp's request API, so no raw
aiohttp exception, JSON error or hang can escape to users: transport
problems become ``APIConnectionError``/``APITimeoutError``/
``TLSCertificateError``, error statuses become the typed ``APIStatusError``
family, and undecodable or oversized bodies become
``UnexpectedResponseError``.

Errors are raised *outside* the ``except`` blocks that caught aiohttp's
exceptions, so neither ``__cause__`` nor ``__context__`` reaches an aiohttp
object whose repr holds the request headers (and with them the API key).

aiohttp silently re-sends an idempotent request once when a pooled
connection turns out dead; a client middleware stops that, so every attempt
that reaches the server went through our retry policy and the rate limiter.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import urllib.request
from collections.abc import Mapping
from typing import Any, NamedTuple

import aiohttp
from aiohttp import hdrs
from yarl import URL

from ._deadlines import CEIL_THRESHOLD, DeadlineWatch
from ._retry import parse_retry_after
from ._speedups import loads_body
from ._validation import invalid
from ._version import __version__
from .errors import (
    APIConnectionError,
    APITimeoutError,
    LettrError,
    TLSCertificateError,
    UnexpectedResponseError,
    error_for_status,
)

__all__ = [
    "MAX_RESPONSE_BYTES",
    "HttpSessions",
    "RawReply",
    "decode_success",
    "env_proxy",
    "error_for_response",
    "borrow",
    "open_sessions",
    "read_body",
    "send",
]

USER_AGENT = f"lettr-async/{__version__} (python; aiohttp/{aiohttp.__version__})"
MAX_RESPONSE_BYTES = 10 * 1024 * 1024
"""Larger response bodies are refused (``UnexpectedResponseError``), read in bounded chunks."""
_CHUNK = 64 * 1024
_JSON_HEADERS = {"Content-Type": "application/json"}
# Servers commonly close idle keep-alive connections after 5 s; never reuse
# one that has been idle for longer than that.
KEEPALIVE_SECONDS = 4.0


class _DroppedConnection(Exception):
    """Raised by the middleware instead of letting aiohttp re-send silently."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


async def _no_hidden_retry(
    request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
) -> aiohttp.ClientResponse:
    """Turn a dropped pooled connection into an error aiohttp does not retry itself."""
    try:
        return await handler(request)
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
        if isinstance(exc, aiohttp.ClientConnectorError):
            raise  # never connected: aiohttp does not retry these anyway
        description = f"{type(exc).__name__}: {exc}"
    raise _DroppedConnection(description)


class HttpSessions:
    """The aiohttp sessions requests go through, and what each request must carry.

    ``pooled`` keeps connections alive for idempotent calls; ``fresh`` (when
    the client built them, ``open_sessions``) opens a new connection for
    every non-idempotent request, so a POST can never be written into a
    connection the server already closed, the one case where "sent but not
    processed" is indistinguishable from "processed". A caller's session
    (``borrow``) is both, never closed here, and gets the client's headers and
    TLS context with every request instead of as session defaults.
    """

    def __init__(
        self,
        pooled: aiohttp.ClientSession,
        fresh: aiohttp.ClientSession,
        *,
        owned: bool,
        headers: Mapping[str, str] | None = None,
        ssl_context: ssl.SSLContext | bool = True,
        proxy: tuple[URL | None, aiohttp.BasicAuth | None] = (None, None),
    ) -> None:
        self.pooled = pooled
        self.fresh = fresh
        self.owned = owned
        # The keyword arguments of every request without and with a JSON body,
        # built once; those equal to aiohttp's defaults are left out (each one
        # passed costs on every call).
        fixed: dict[str, Any] = {"allow_redirects": False}
        if ssl_context is not True:
            fixed["ssl"] = ssl_context
        if proxy[0] is not None:
            fixed["proxy"], fixed["proxy_auth"] = proxy
        self.plain_options = {**fixed, "headers": dict(headers)} if headers else fixed
        self.json_options = {**fixed, "headers": {**(headers or {}), **_JSON_HEADERS}}
        self.deadlines = DeadlineWatch()  # one loop's sessions: one loop's requests

    @property
    def closed(self) -> bool:
        """True once a session is closed (a caller's, by its owner)."""
        return self.pooled.closed or self.fresh.closed

    async def close(self) -> None:
        """Close both sessions (inside their loop), unless they are a caller's."""
        self.deadlines.close()
        if self.owned:
            await self.pooled.close()
            await self.fresh.close()


def open_sessions(
    headers: Mapping[str, str], limit: int, ssl_context: ssl.SSLContext | None, base_url: str
) -> HttpSessions:
    """The client's own two sessions, in the running loop.

    Both use the proxy ``HTTP(S)_PROXY``/``NO_PROXY`` name for ``base_url``,
    looked up once here: aiohttp's ``trust_env`` would look it (and
    ``~/.netrc``) up in a worker thread on every request.
    """
    default_headers = {**headers, "User-Agent": USER_AGENT}
    verify: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
    pooled = aiohttp.TCPConnector(
        limit=limit, ttl_dns_cache=300, keepalive_timeout=KEEPALIVE_SECONDS, ssl=verify
    )
    fresh = aiohttp.TCPConnector(limit=limit, ttl_dns_cache=300, force_close=True, ssl=verify)
    return HttpSessions(
        _open(default_headers, pooled),
        _open(default_headers, fresh),
        owned=True,
        proxy=env_proxy(base_url),
    )


def _open(headers: Mapping[str, str], connector: aiohttp.TCPConnector) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        headers=headers,
        connector=connector,
        timeout=_NO_TIMEOUT,
        raise_for_status=False,
        middlewares=(_no_hidden_retry,),
    )


def borrow(
    session: Any, headers: Mapping[str, str], ssl_context: ssl.SSLContext | None
) -> HttpSessions:
    """A caller's ``aiohttp.ClientSession``, refused at once when the client cannot use it.

    Every refusal is one the client could not work around per request:
    aiohttp raising for error statuses (the typed errors and retries need
    the response), compressed bodies (the size cap counts decoded bytes,
    JSON needs them), ``auth=`` (aiohttp refuses it beside our
    ``Authorization`` header). Certificate checks are enforced per request
    with the client's own context, whatever the session's connector says.
    """
    if not isinstance(session, aiohttp.ClientSession):
        problem = "must be an aiohttp.ClientSession."
    elif session.closed:
        problem = "is closed."
    elif session.raise_for_status:
        problem = "must not set raise_for_status (the client maps error statuses itself)."
    elif not session.auto_decompress:
        problem = "must not set auto_decompress=False (the client decodes JSON bodies)."
    elif session.auth is not None:
        problem = "must not set auth= (the client sends its own Authorization header)."
    else:
        return HttpSessions(
            session,
            session,
            owned=False,
            headers={**headers, "User-Agent": USER_AGENT},
            ssl_context=ssl_context if ssl_context is not None else ssl.create_default_context(),
        )
    raise invalid("http_session", problem)


def env_proxy(base_url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
    """The proxy the environment names for ``base_url`` (like httpx and requests).

    ``HTTP_PROXY``/``HTTPS_PROXY`` (any case) by the URL's scheme, unless
    ``NO_PROXY`` covers its host; credentials in the proxy URL become
    ``Proxy-Authorization``.
    """
    url = URL(base_url)
    host = url.host
    if host is None or urllib.request.proxy_bypass(host):
        return None, None
    raw = urllib.request.getproxies().get(url.scheme)
    if not raw:
        return None, None
    try:
        proxy = URL(raw if "://" in raw else f"http://{raw}")
    except ValueError:
        return None, None
    auth = aiohttp.BasicAuth(proxy.user, proxy.password or "") if proxy.user else None
    return proxy.with_user(None), auth


class RawReply(NamedTuple):
    """What came back: status, headers and the raw body bytes (a tuple: cheap, one per call).

    Not ``Response``: that is the public hook record (``lettr_async.hooks.Response``).
    """

    status: int
    reason: str | None
    headers: Mapping[str, str]
    body: bytes


async def read_body(resp: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The whole decoded body, or None as soon as it passes ``limit`` bytes.

    ``Content-Length`` is the size on the wire: a 1 MB gzip body may inflate
    to a gigabyte. aiohttp decompresses (gzip, deflate, br, zstd) as the body
    streams, a bounded step at a time, so counting what ``iter_chunked``
    yields bounds the *decoded* size whatever the encoding and framing
    (length, chunked, until close), and the read stops at the cap. Only an
    uncompressed body with a declared length is refused, or read, at once.
    """
    length = resp.content_length
    if length is not None and hdrs.CONTENT_ENCODING not in resp.headers:
        return None if length > limit else await resp.read()
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def send(
    sessions: HttpSessions,
    method: str,
    url_text: str,
    *,
    body: bytes | None,
    timeout: float | None,
    idempotent: bool,
    max_body: int = MAX_RESPONSE_BYTES,
) -> RawReply:
    """Send one request and read the whole response, or raise a typed error.

    ``url_text`` is already percent-encoded: it is passed on as it is, so an
    encoded ``%2F`` in an id stays one path segment.
    """
    url = _url(url_text)
    session = sessions.pooled if idempotent else sessions.fresh
    deadlines = sessions.deadlines
    watched = None if timeout is None or timeout < CEIL_THRESHOLD else deadlines.start(timeout)
    client_timeout = _NO_TIMEOUT if watched is not None else _client_timeout(timeout)
    error: LettrError
    try:
        async with (
            session.request(method, url, timeout=client_timeout, **sessions.plain_options)
            if body is None
            else session.request(
                method, url, data=body, timeout=client_timeout, **sessions.json_options
            )
        ) as resp:
            length = resp.content_length
            # The common case inline (no further coroutine): a plain body of known size.
            plain = hdrs.CONTENT_ENCODING not in resp.headers
            if length is not None and length <= max_body and plain:
                payload: bytes | None = await resp.read()
            else:
                payload = await read_body(resp, max_body)
            if payload is not None:
                return RawReply(resp.status, resp.reason, resp.headers, payload)
            error = UnexpectedResponseError(
                f"HTTP {resp.status} response to {method} {url.path} is larger than "
                f"{max_body} bytes",
                status_code=resp.status,
            )
    except asyncio.CancelledError:
        if watched is None or not deadlines.expired(watched):
            raise
        error = APITimeoutError(f"{method} {url.path} timed out after {timeout}s")
    except asyncio.TimeoutError:
        error = APITimeoutError(f"{method} {url.path} timed out after {timeout}s")
    except aiohttp.ClientConnectorCertificateError as exc:
        error = TLSCertificateError(
            f"TLS certificate of {url.host} failed verification: {_reason(exc.certificate_error)}"
        )
    except aiohttp.ClientConnectorError as exc:
        # The TCP connection was never established: nothing was sent.
        error = APIConnectionError(
            f"cannot connect to {url.host}:{url.port}: {exc.os_error.strerror or _reason(exc)}",
            request_sent=False,
        )
    except _DroppedConnection as exc:
        error = APIConnectionError(
            f"{method} {url.path} failed: connection dropped ({exc.description})"
        )
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        error = APIConnectionError(
            f"{method} {url.path} failed: {type(exc).__name__}: {_reason(exc)}"
        )
    except RuntimeError as exc:
        # aiohttp's answer to a caller's session used outside its own event
        # loop ("Timeout context manager should be used inside a task", "attached
        # to a different loop") or closed meanwhile: retrying cannot help.
        error = LettrError(
            f"{method} {url.path} failed: the HTTP session cannot be used here "
            f"(an http_session belongs to the event loop that created it): {_reason(exc)}"
        )
    finally:
        if watched is not None:
            deadlines.stop(watched)
    raise error


_NO_TIMEOUT = aiohttp.ClientTimeout(total=None)


def _client_timeout(seconds: float | None) -> aiohttp.ClientTimeout:
    """aiohttp's own timer: for timeouts under ``CEIL_THRESHOLD`` (longer: ``DeadlineWatch``)."""
    return _NO_TIMEOUT if seconds is None else aiohttp.ClientTimeout(total=seconds)


@functools.lru_cache(maxsize=1024)
def _url(url_text: str) -> URL:
    """Parsed once per distinct URL: ids repeat, and yarl parsing is not free."""
    return URL(url_text, encoded=True)


def _reason(exc: BaseException) -> str:
    """A short description of a transport error, without request details.

    aiohttp's response errors keep their status and text in attributes, not
    in ``args`` (which hold the request info); ssl's verification errors
    keep theirs in ``verify_message`` (``Hostname mismatch, ...``).
    """
    if isinstance(exc, aiohttp.ClientResponseError):
        text = f"{exc.status}, {exc.message}"
    elif isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        text = exc.verify_message
    elif exc.args and isinstance(exc.args[0], str):
        text = exc.args[0]
    else:
        text = type(exc).__name__
    return " ".join(text.split())[:200]


def decode_success(response: RawReply) -> Any:
    """Decode a 2xx body, insisting on JSON (an empty body is None)."""
    error: UnexpectedResponseError
    body = response.body
    try:
        # loads_body (msgspec with [speedups], else loads_json; same values
        # and errors) turns RecursionError (a few KB of nested brackets) into
        # the ValueError mapped here to a typed error.
        return loads_body(body) if body else None
    except ValueError:
        error = UnexpectedResponseError(
            f"HTTP {response.status} with a body that is not JSON: {_snippet(response.body)}",
            status_code=response.status,
        )
    raise error


def error_for_response(response: RawReply) -> LettrError:
    """The typed error for a non-2xx response (JSON body or not)."""
    if response.status < 400:
        return UnexpectedResponseError(
            f"unexpected HTTP {response.status} {response.reason or ''}".strip(),
            status_code=response.status,
        )
    try:
        body: Any = loads_body(response.body) if response.body else None
    except ValueError:
        body = None
    return error_for_status(
        response.status,
        body,
        response.headers,
        reason=response.reason,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )


def _snippet(body: bytes, limit: int = 80) -> str:
    text = body[:limit].decode("utf-8", "replace")
    return repr(text + ("..." if len(body) > limit else ""))
