"""One HTTP exchange over aiohttp, with every failure mapped to our errors.

This is the only module that touches aiohttp's request API, so no raw
aiohttp exception, JSON error or hang can escape to users: transport
problems become ``APIConnectionError``/``APITimeoutError``, error statuses
become the typed ``APIStatusError`` family, and undecodable success bodies
become ``UnexpectedResponseError``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import aiohttp
import attrs
from yarl import URL

from ._retry import parse_retry_after
from ._version import __version__
from .errors import (
    APIConnectionError,
    APITimeoutError,
    LettrError,
    UnexpectedResponseError,
    error_for_status,
)

__all__ = ["Response", "decode_success", "open_http_session", "raise_for_status", "send"]

USER_AGENT = f"lettr-async/{__version__} (python; aiohttp/{aiohttp.__version__})"
_JSON_HEADERS = {"Content-Type": "application/json"}
_TIMEOUTS: dict[float | None, aiohttp.ClientTimeout] = {}


def open_http_session(headers: Mapping[str, str], limit: int) -> aiohttp.ClientSession:
    """A keep-alive pooled session for the running loop, with our default headers."""
    return aiohttp.ClientSession(
        headers={**headers, "User-Agent": USER_AGENT},
        connector=aiohttp.TCPConnector(limit=limit, ttl_dns_cache=300),
        timeout=aiohttp.ClientTimeout(total=None),
        raise_for_status=False,
    )


def _client_timeout(seconds: float | None) -> aiohttp.ClientTimeout:
    cached = _TIMEOUTS.get(seconds)
    if cached is None:
        cached = _TIMEOUTS[seconds] = aiohttp.ClientTimeout(total=seconds)
    return cached


@attrs.frozen
class Response:
    """What came back: status, headers and the raw body bytes."""

    status: int
    reason: str | None
    headers: Mapping[str, str]
    body: bytes


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url_text: str,
    *,
    body: bytes | None,
    timeout: float | None,
) -> Response:
    """Send one request and read the whole response, or raise a typed error.

    ``url_text`` is already percent-encoded: it is passed on as it is, so an
    encoded ``%2F`` in an id stays one path segment.
    """
    url = URL(url_text, encoded=True)
    try:
        async with session.request(
            method,
            url,
            data=body,
            headers=_JSON_HEADERS if body is not None else None,
            timeout=_client_timeout(timeout),
            allow_redirects=False,
        ) as resp:
            payload = await resp.read()
            return Response(resp.status, resp.reason, resp.headers, payload)
    except asyncio.TimeoutError:
        raise APITimeoutError(f"{method} {url.path} timed out after {timeout}s") from None
    except aiohttp.ClientConnectorError as exc:
        # The TCP connection was never established: nothing was sent.
        raise APIConnectionError(
            f"cannot connect to {url.host}:{url.port}: {exc.os_error.strerror or exc}",
            request_sent=False,
        ) from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise APIConnectionError(
            f"{method} {url.path} failed: {type(exc).__name__}: {exc}"
        ) from exc


def _decode_json(body: bytes) -> Any:
    return json.loads(body) if body else None


def decode_success(response: Response) -> Any:
    """Decode a 2xx body, insisting on JSON."""
    try:
        return _decode_json(response.body)
    except ValueError:
        raise UnexpectedResponseError(
            f"HTTP {response.status} with a body that is not JSON: {_snippet(response.body)}",
            status_code=response.status,
        ) from None


def raise_for_status(response: Response) -> None:
    """Raise the typed error for a non-2xx response (JSON body or not)."""
    if response.status < 400:
        if 200 <= response.status < 300:
            return
        raise UnexpectedResponseError(
            f"unexpected HTTP {response.status} {response.reason or ''}".strip(),
            status_code=response.status,
        )
    try:
        body: Any = _decode_json(response.body)
    except ValueError:
        body = None
    error: LettrError = error_for_status(
        response.status,
        body,
        response.headers,
        reason=response.reason,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )
    raise error


def _snippet(body: bytes, limit: int = 80) -> str:
    text = body[:limit].decode("utf-8", "replace")
    return repr(text + ("..." if len(body) > limit else ""))
