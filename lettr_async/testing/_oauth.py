"""OAuth 2 client-credentials tokens for webhook deliveries, fetched and cached.

Why a module of its own: both ``FakeLettr.deliver`` and ``trigger`` (one
delivery engine) authenticate ``oauth2`` endpoints the way Lettr does: POST
``grant_type=client_credentials`` to the token URL, send the
``access_token`` as ``Bearer``, reuse it until ``expires_in`` (minus a
little) or until a receiver answers 401. The token endpoint is not trusted:
its answer is read up to ``MAX_TOKEN_ANSWER_BYTES`` and parsed with bounded
depth, and no failure escapes as anything but ``TokenError``.
"""

from __future__ import annotations

import asyncio
import base64
import math
import time
from collections.abc import Mapping
from typing import Any, Final, Literal
from urllib.parse import quote_plus

import aiohttp
import attrs

from .._converter import loads_json

__all__ = ["MAX_TOKEN_ANSWER_BYTES", "TokenCache", "TokenError", "b64", "post_bounded"]

MAX_TOKEN_ANSWER_BYTES: Final = 64 * 1024
"""The most of a token endpoint's answer that is read; a longer one is refused."""

_TOKEN_LEEWAY_MAX: Final = 30.0

TokenKey = tuple[str, str, str, str]


class TokenError(Exception):
    """The OAuth 2 token endpoint did not give a usable token (message is secret-free)."""


@attrs.frozen
class _Token:
    value: str
    expires_at: float | None  # monotonic seconds; None = until a receiver rejects it


def b64(text: str) -> str:
    """Base64 of UTF-8 ``text`` (HTTP Basic credentials)."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


async def post_bounded(
    session: aiohttp.ClientSession,
    url: str,
    data: Any,
    headers: Mapping[str, str],
    timeout: float,
    limit: int,
) -> tuple[int, bytes, bool]:
    """POST without following redirects; the status, at most ``limit`` body bytes, and
    whether there was more.

    Why: a receiver or token endpoint may answer with gigabytes; only the
    start of the (decompressed) body is kept, and the rest is never read
    (the connection is dropped). Network failures and timeouts propagate.
    """
    async with session.post(
        url,
        data=data,
        headers=headers,
        timeout=aiohttp.ClientTimeout(total=timeout),
        allow_redirects=False,
    ) as response:
        kept = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            kept += chunk
            if len(kept) > limit:
                return response.status, bytes(kept[:limit]), True
        return response.status, bytes(kept), False


class TokenCache:
    """Client-credentials tokens by (owner, token URL, client id, secret).

    ``client_auth`` is how the id and secret reach the token endpoint:
    ``"basic"`` (RFC 6749 section 2.3.1: HTTP Basic over form-encoded id and
    secret) or ``"body"`` (``client_id``/``client_secret`` form fields).
    """

    def __init__(self, client_auth: Literal["basic", "body"] = "basic") -> None:
        """Start empty."""
        if client_auth not in ("basic", "body"):
            raise ValueError("oauth_client_auth must be 'basic' or 'body'")
        self.client_auth = client_auth
        self._tokens: dict[TokenKey, _Token] = {}

    def clear(self) -> None:
        """Drop every cached token."""
        self._tokens.clear()

    def forget(self, key: TokenKey) -> None:
        """Drop one token (a receiver rejected it: fetch a fresh one next time)."""
        self._tokens.pop(key, None)

    async def get(
        self,
        session: aiohttp.ClientSession,
        key: TokenKey,
        timeout: float,
    ) -> str:
        """A cached or freshly fetched access token for ``key``; ``TokenError`` if none."""
        cached = self._tokens.get(key)
        if cached is not None and (
            cached.expires_at is None or time.monotonic() < cached.expires_at
        ):
            return cached.value
        _owner, url, client_id, secret = key
        form = {"grant_type": "client_credentials"}
        headers = {"Accept": "application/json"}
        if self.client_auth == "basic":
            headers["Authorization"] = "Basic " + b64(
                f"{quote_plus(client_id)}:{quote_plus(secret)}"
            )
        else:
            form.update(client_id=client_id, client_secret=secret)
        try:
            status, raw, too_long = await post_bounded(
                session, url, form, headers, timeout, MAX_TOKEN_ANSWER_BYTES
            )
        except asyncio.TimeoutError:
            raise TokenError(f"token request timed out after {timeout:g} s") from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise TokenError(f"token request failed: {type(exc).__name__}: {exc}") from None
        if not 200 <= status < 300:
            raise TokenError(f"token endpoint answered HTTP {status}")
        if too_long:
            raise TokenError(f"token endpoint answer is over {MAX_TOKEN_ANSWER_BYTES} bytes")
        token = _parse_token(raw)
        self._tokens[key] = token
        return token.value


def _parse_token(raw: bytes) -> _Token:
    """Read ``access_token`` (and ``expires_in``) from a token endpoint's JSON answer."""
    try:
        answer = loads_json(raw)
    except ValueError:  # also hostile nesting, which json.loads raises RecursionError for
        raise TokenError("token endpoint answered with invalid JSON") from None
    value = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(value, str) or not value:
        raise TokenError("token endpoint answer has no access_token")
    expires_in = _seconds(answer.get("expires_in"))
    if expires_in is not None:
        leeway = min(_TOKEN_LEEWAY_MAX, expires_in / 10)
        return _Token(value, time.monotonic() + expires_in - leeway)
    return _Token(value, None)


def _seconds(value: object) -> float | None:
    """``expires_in`` as finite, non-negative seconds; ``None`` when absent or unusable."""
    if isinstance(value, str):
        # Beyond 12 digits int() may refuse it (str->int limit) and no token lasts that long.
        if not (value.isdigit() and value.isascii() and len(value) <= 12):
            return None
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an integer beyond float range
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
