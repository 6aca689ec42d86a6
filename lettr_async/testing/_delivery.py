"""FakeLettr's webhook deliverer: POST event batches the way Lettr does.

Why: a receiver is only proven by a sender that behaves like Lettr's: a JSON
array per delivery, the webhook's own authentication (Basic, or an OAuth 2
client-credentials token), a 2xx within the timeout meaning "done", retries
on everything else along the documented schedule, and ``410 Gone`` disabling
the webhook. The server decides *which* webhooks get *which* items; this
module only sends and retries, reporting every outcome back through
callbacks so the server's state (``last_status``...) follows each attempt.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal
from urllib.parse import quote_plus

import aiohttp
import attrs

from .._converter import loads_json
from .._transport import MAX_RESPONSE_BYTES, read_body

__all__ = [
    "DEFAULT_RETRY_SCHEDULE",
    "DEFAULT_TIME_SCALE",
    "USER_AGENT",
    "DeliveryReport",
    "Deliverer",
    "Outcome",
    "Target",
]

DEFAULT_RETRY_SCHEDULE: Final[tuple[float, ...]] = (
    0.0,
    60.0,
    300.0,
    1800.0,
    7200.0,
    28800.0,
    86400.0,
)
"""Lettr's documented retries, in seconds to wait before each one: immediately,
1 min, 5 min, 30 min, 2 h, 8 h, 24 h (7 retries, 8 attempts, about 35 hours)."""

DEFAULT_TIME_SCALE: Final = 1e-5
"""``FakeLettr``'s default factor on ``DEFAULT_RETRY_SCHEDULE``: a test server.

At 1e-5 the whole schedule takes about 1.25 s (first retry at once, the last
after ~0.9 s), so a test against a failing receiver ends in about a second
instead of blocking for 35 hours, while the retries keep Lettr's order and
proportions. Pass ``delivery_time_scale=1.0`` (or ``time_scale=1.0`` to
``deliver``) for the real timing.
"""

USER_AGENT: Final = "Lettr-Webhooks/1.0"
"""The ``User-Agent`` of every delivery and token request."""

Outcome = Literal["success", "failure", "gone"]
"""What one attempt did to the webhook: delivered, failed, or ``410 Gone``."""

Attempt = tuple[int | None, str | None]


@attrs.frozen
class DeliveryReport:
    """What happened when FakeLettr delivered one batch to one webhook.

    Why: tests assert on the sender's side too (how many attempts, which
    statuses, whether the webhook got disabled) without scraping logs.
    ``attempts`` holds one ``(status, error)`` pair per attempt, in order:
    ``(401, None)`` for an HTTP answer, ``(None, "...")`` when there was no
    answer (connection refused, timeout) or the OAuth 2 token could not be
    obtained. ``delivered`` is true when an attempt got a 2xx; ``disabled``
    when a ``410 Gone`` disabled the webhook.
    """

    webhook_id: str
    url: str
    attempts: tuple[Attempt, ...]
    delivered: bool
    disabled: bool


@attrs.frozen
class Target:
    """One webhook to deliver to, snapshotted from the server's state.

    ``credentials`` are the stored secrets (``auth_username``...);
    ``items`` is the batch already filtered to the webhook's event types.
    """

    webhook_id: str
    url: str
    auth_type: str
    credentials: Mapping[str, str | None]
    items: tuple[Mapping[str, Any], ...]


@attrs.frozen
class _Token:
    value: str
    expires_at: float | None  # monotonic seconds; None = until a receiver rejects it


class _TokenError(Exception):
    """The OAuth 2 token endpoint did not give a usable token."""


_TOKEN_LEEWAY_MAX: Final = 30.0


class Deliverer:
    """Sends batches with retries; keeps OAuth 2 tokens between ``deliver`` calls.

    ``oauth_client_auth`` chooses how the client id and secret reach the
    token endpoint: ``"basic"`` (the default, RFC 6749 section 2.3.1: HTTP
    Basic with form-encoded id and secret) or ``"body"`` (``client_id`` and
    ``client_secret`` form fields, which the RFC allows but discourages).
    """

    def __init__(self, *, oauth_client_auth: Literal["basic", "body"] = "basic") -> None:
        """Start with an empty token cache."""
        if oauth_client_auth not in ("basic", "body"):
            raise ValueError("oauth_client_auth must be 'basic' or 'body'")
        self.oauth_client_auth = oauth_client_auth
        self._tokens: dict[tuple[str, str, str, str], _Token] = {}

    def forget_tokens(self) -> None:
        """Drop every cached OAuth 2 token."""
        self._tokens.clear()

    async def deliver(
        self,
        targets: Sequence[Target],
        *,
        schedule: Sequence[float],
        timeout: float,
        record: Callable[[str, Outcome], None],
        wanted: Callable[[str], bool],
    ) -> list[DeliveryReport]:
        """Deliver to every target concurrently, on one session; one report each.

        ``record(webhook_id, outcome)`` runs after every attempt;
        ``wanted(webhook_id)`` is asked before every retry, so a webhook
        disabled or deleted meanwhile stops being retried.
        """
        if not targets:
            return []
        headers = {"User-Agent": USER_AGENT}
        async with aiohttp.ClientSession(headers=headers) as session:
            return list(
                await asyncio.gather(
                    *(
                        self._deliver_one(session, target, schedule, timeout, record, wanted)
                        for target in targets
                    )
                )
            )

    async def _deliver_one(
        self,
        session: aiohttp.ClientSession,
        target: Target,
        schedule: Sequence[float],
        timeout: float,
        record: Callable[[str, Outcome], None],
        wanted: Callable[[str], bool],
    ) -> DeliveryReport:
        body = json.dumps(list(target.items), separators=(",", ":")).encode()
        attempts: list[Attempt] = []
        delays = [None, *schedule]
        for index, delay in enumerate(delays):
            if delay is not None:
                await asyncio.sleep(max(0.0, delay))
                if not wanted(target.webhook_id):
                    break
            attempt = await self._attempt(session, target, body, timeout)
            attempts.append(attempt)
            status = attempt[0]
            if status is not None and 200 <= status < 300:
                record(target.webhook_id, "success")
                return self._report(target, attempts, delivered=True)
            if status == 410:
                record(target.webhook_id, "gone")
                return self._report(target, attempts, disabled=True)
            record(target.webhook_id, "failure")
            if index == len(delays) - 1:
                break
        return self._report(target, attempts)

    @staticmethod
    def _report(
        target: Target, attempts: list[Attempt], *, delivered: bool = False, disabled: bool = False
    ) -> DeliveryReport:
        return DeliveryReport(
            webhook_id=target.webhook_id,
            url=target.url,
            attempts=tuple(attempts),
            delivered=delivered,
            disabled=disabled,
        )

    async def _attempt(
        self, session: aiohttp.ClientSession, target: Target, body: bytes, timeout: float
    ) -> Attempt:
        """One POST of the batch; never raises for network trouble."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        token_key: tuple[str, str, str, str] | None = None
        try:
            if target.auth_type == "basic":
                user = target.credentials.get("auth_username") or ""
                password = target.credentials.get("auth_password") or ""
                headers["Authorization"] = "Basic " + _b64(f"{user}:{password}")
            elif target.auth_type == "oauth2":
                token_key, token = await self._token(session, target, timeout)
                headers["Authorization"] = f"Bearer {token}"
            async with session.post(
                target.url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
            ) as response:
                await read_body(response, MAX_RESPONSE_BYTES)  # a receiver's answer is not used
                status = response.status
        except _TokenError as exc:
            return None, str(exc)
        except asyncio.TimeoutError:
            return None, f"timed out after {timeout:g} s"
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        if status == 401 and token_key is not None:
            self._tokens.pop(token_key, None)  # rejected: fetch a fresh one next time
        return status, None

    async def _token(
        self, session: aiohttp.ClientSession, target: Target, timeout: float
    ) -> tuple[tuple[str, str, str, str], str]:
        """A cached or freshly fetched client-credentials access token."""
        url = target.credentials.get("oauth_token_url") or ""
        client_id = target.credentials.get("oauth_client_id") or ""
        secret = target.credentials.get("oauth_client_secret") or ""
        key = (target.webhook_id, url, client_id, secret)
        cached = self._tokens.get(key)
        if cached is not None and (
            cached.expires_at is None or time.monotonic() < cached.expires_at
        ):
            return key, cached.value
        form = {"grant_type": "client_credentials"}
        headers = {"Accept": "application/json"}
        if self.oauth_client_auth == "basic":
            headers["Authorization"] = "Basic " + _b64(
                f"{quote_plus(client_id)}:{quote_plus(secret)}"
            )
        else:
            form.update(client_id=client_id, client_secret=secret)
        try:
            async with session.post(
                url,
                data=form,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
            ) as response:
                raw = await read_body(response, MAX_RESPONSE_BYTES)
                status = response.status
        except asyncio.TimeoutError:
            raise _TokenError(f"token request timed out after {timeout:g} s") from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise _TokenError(f"token request failed: {type(exc).__name__}: {exc}") from None
        if not 200 <= status < 300:
            raise _TokenError(f"token endpoint answered HTTP {status}")
        if raw is None:
            raise _TokenError(f"token endpoint answer is larger than {MAX_RESPONSE_BYTES} bytes")
        token = _parse_token(raw)
        self._tokens[key] = token
        return key, token.value


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _parse_token(raw: bytes) -> _Token:
    """Read ``access_token`` (and ``expires_in``) from a token endpoint's JSON answer."""
    try:
        answer = loads_json(raw)
    except ValueError:  # also hostile nesting, which json.loads raises RecursionError for
        raise _TokenError("token endpoint answered with invalid JSON") from None
    value = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(value, str) or not value:
        raise _TokenError("token endpoint answer has no access_token")
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
