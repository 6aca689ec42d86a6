"""The one webhook delivery engine: POST event batches the way Lettr does.

Why: a receiver is only proven by a sender that behaves like Lettr's: a JSON
array per delivery, the endpoint's own authentication (Basic, or an OAuth 2
client-credentials token; optionally the older docs' ``Lettr-Signature``),
a 2xx within the timeout meaning "done", retries on everything else along
the documented schedule, and ``410 Gone`` stopping them. ``FakeLettr.deliver``
(which decides *which* webhooks get *which* items) and ``trigger`` / the
``lettr-webhooks trigger`` command (one URL the user names) both send through
``deliver_batch`` here. Receivers are not trusted: their answers are read up
to ``MAX_ANSWER_BYTES``, and every secret the engine knows (passwords,
client secrets, signing secrets, tokens) is masked in what it reports.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import aiohttp
import attrs

from lettr_async.events import SIGNATURE_HEADER, sign_payload
from lettr_async.models import mask_url_credentials

from ._oauth import TokenCache, TokenError, TokenKey, b64, post_bounded

__all__ = [
    "DEFAULT_ATTEMPT_TIMEOUT",
    "DEFAULT_RETRY_SCHEDULE",
    "DEFAULT_TIME_SCALE",
    "MAX_ANSWER_BYTES",
    "USER_AGENT",
    "AttemptResult",
    "DeliveryReport",
    "Deliverer",
    "Endpoint",
    "Outcome",
    "Target",
    "deliver_batch",
    "scaled_schedule",
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
"""The default factor on ``DEFAULT_RETRY_SCHEDULE`` of ``FakeLettr`` and ``trigger``.

At 1e-5 the whole schedule takes about 1.25 s (first retry at once, the last
after ~0.9 s), so a failing receiver is retried in Lettr's order and
proportions in about a second instead of 35 hours. ``1.0`` is real time.
"""

DEFAULT_ATTEMPT_TIMEOUT: Final = 30.0
"""Seconds Lettr gives a receiver to answer one delivery. Never scaled:
a receiver that is slow at real speed must look slow in tests too."""

MAX_ANSWER_BYTES: Final = 4096
"""How much of a receiver's answer each ``AttemptResult`` keeps (the rest is not read)."""

USER_AGENT: Final = "Lettr-Webhooks/1.0"
"""The ``User-Agent`` of every delivery and token request."""

Outcome = Literal["success", "failure", "gone"]
"""What one attempt did to the webhook: delivered, failed, or ``410 Gone``."""

Attempt = tuple[int | None, str | None]

_MASK = "***"
_AUTH_TYPES: Final = ("none", "basic", "oauth2")


def _url_repr(url: str) -> str:
    return repr(mask_url_credentials(url))


def _url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _check_url(value: str | None, field: str) -> None:
    if not value:
        raise ValueError(f"{field}: a URL is required")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ValueError(f"{field}: not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{field}: must be an absolute http:// or https:// URL")


@attrs.frozen
class Endpoint:
    """Where and how to deliver: a URL and the authentication its receiver expects.

    ``auth_type`` is ``"none"``, ``"basic"`` (``auth_username`` and
    ``auth_password``: an ``Authorization: Basic`` header) or ``"oauth2"``
    (``oauth_token_url``, ``oauth_client_id``, ``oauth_client_secret``: a
    client-credentials token sent as ``Bearer``), as a Lettr webhook is
    configured. ``signing_secret`` adds the ``Lettr-Signature`` header of
    Lettr's older docs. Secrets never appear in ``repr``; credentials in
    the URL are masked there.
    """

    url: str = attrs.field(repr=_url_repr)
    auth_type: str = "none"
    auth_username: str | None = None
    auth_password: str | None = attrs.field(default=None, repr=False)
    oauth_token_url: str | None = attrs.field(default=None, repr=_url_repr)
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = attrs.field(default=None, repr=False)
    signing_secret: str | None = attrs.field(default=None, repr=False)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the field when this endpoint cannot be delivered to."""
        _check_url(self.url, "url")
        if self.auth_type not in _AUTH_TYPES:
            raise ValueError(f"auth_type: must be one of {', '.join(_AUTH_TYPES)}")
        if self.auth_type == "basic":
            for field in ("auth_username", "auth_password"):
                if getattr(self, field) is None:
                    raise ValueError(f"{field}: required with auth_type basic")
        if self.auth_type == "oauth2":
            _check_url(self.oauth_token_url, "oauth_token_url")
            for field in ("oauth_client_id", "oauth_client_secret"):
                if not getattr(self, field):
                    raise ValueError(f"{field}: required with auth_type oauth2")
        if self.signing_secret == "":
            raise ValueError("signing_secret: must not be empty")

    def secrets(self) -> list[str]:
        """Every secret value this endpoint holds, to mask in reports."""
        values = [self.auth_password, self.oauth_client_secret, self.signing_secret]
        values += [_url_password(self.url), _url_password(self.oauth_token_url or "")]
        if self.auth_type == "basic":
            values.append(b64(f"{self.auth_username or ''}:{self.auth_password or ''}"))
        return [value for value in values if value]


@attrs.frozen
class AttemptResult:
    """One POST of a batch, as the sender saw it.

    ``delay`` is the wait before it (0 for the first; then the scaled
    schedule). ``status`` is the HTTP status, or ``None`` when there was no
    answer (``error`` says why: refused, timed out, no OAuth token).
    ``latency`` is seconds from sending to the end of the answer (or the
    failure). ``answer`` is the start of the receiver's body (up to
    ``MAX_ANSWER_BYTES``, decoded as UTF-8, secrets masked);
    ``answer_truncated`` tells that there was more.
    """

    number: int
    delay: float
    status: int | None
    error: str | None
    latency: float
    answer: str = ""
    answer_truncated: bool = False

    @property
    def accepted(self) -> bool:
        """Whether the receiver took the batch (any 2xx)."""
        return self.status is not None and 200 <= self.status < 300


@attrs.frozen
class DeliveryReport:
    """What happened when one batch was delivered to one endpoint.

    Why: tests assert on the sender's side too (how many attempts, which
    statuses, whether the webhook got disabled) without scraping logs.
    ``attempts`` holds one ``(status, error)`` pair per attempt, in order:
    ``(401, None)`` for an HTTP answer, ``(None, "...")`` when there was no
    answer (connection refused, timeout) or the OAuth 2 token could not be
    obtained. ``delivered`` is true when an attempt got a 2xx; ``disabled``
    when a ``410 Gone`` stopped it (``FakeLettr`` then disables the
    webhook). ``webhook_id`` is ``None`` for ``trigger``'s deliveries.
    ``results`` has every attempt in full (latency, the receiver's answer);
    it is left out of equality, so reports compare by outcome.
    """

    webhook_id: str | None
    url: str = attrs.field(repr=_url_repr)
    attempts: tuple[Attempt, ...]
    delivered: bool
    disabled: bool
    results: tuple[AttemptResult, ...] = attrs.field(default=(), eq=False, repr=False)


@attrs.frozen
class Target:
    """One webhook of ``FakeLettr`` to deliver to: its endpoint and matching items."""

    webhook_id: str
    endpoint: Endpoint
    items: tuple[Mapping[str, Any], ...]


def scaled_schedule(
    time_scale: float, retry_schedule: Sequence[float] | None = None
) -> list[float]:
    """Waits before each retry: ``retry_schedule`` as given, else Lettr's times ``time_scale``."""
    if retry_schedule is not None:
        return [float(delay) for delay in retry_schedule]
    return [delay * time_scale for delay in DEFAULT_RETRY_SCHEDULE]


def _mask(text: str, secrets: Sequence[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    return text


async def deliver_batch(
    session: aiohttp.ClientSession,
    tokens: TokenCache,
    endpoint: Endpoint,
    items: Sequence[Mapping[str, Any]],
    *,
    schedule: Sequence[float],
    timeout: float,
    webhook_id: str | None = None,
    on_attempt: Callable[[AttemptResult], None] | None = None,
    wanted: Callable[[], bool] | None = None,
) -> DeliveryReport:
    """POST ``items`` as one JSON array, retrying on ``schedule``; the report.

    A 2xx ends it; ``410 Gone`` stops it (``disabled``); anything else (an
    error status, no answer within ``timeout``, no OAuth token) is retried
    after each wait of ``schedule`` until it runs out. ``on_attempt`` runs
    after every attempt; ``wanted()`` is asked before every retry, so a
    webhook disabled or deleted meanwhile stops being retried. Every retry
    sends the same bytes (so the same ``event_id``\\ s).
    """
    body = json.dumps(list(items), separators=(",", ":")).encode()
    results: list[AttemptResult] = []
    disabled = False
    for number, delay in enumerate([0.0, *schedule], start=1):
        if number > 1:
            await asyncio.sleep(max(0.0, delay))
            if wanted is not None and not wanted():
                break
        result = await _attempt(session, tokens, endpoint, body, timeout, number, delay)
        results.append(result)
        if on_attempt is not None:
            on_attempt(result)
        if result.accepted:
            break
        if result.status == 410:
            disabled = True
            break
    return DeliveryReport(
        webhook_id=webhook_id,
        url=endpoint.url,
        attempts=tuple((r.status, r.error) for r in results),
        delivered=bool(results) and results[-1].accepted,
        disabled=disabled,
        results=tuple(results),
    )


async def _attempt(
    session: aiohttp.ClientSession,
    tokens: TokenCache,
    endpoint: Endpoint,
    body: bytes,
    timeout: float,
    number: int,
    delay: float,
) -> AttemptResult:
    """One POST of the batch; never raises for network trouble."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    secrets = endpoint.secrets()
    token_key: TokenKey | None = None
    started = time.perf_counter()

    def failed(error: str) -> AttemptResult:
        latency = time.perf_counter() - started
        return AttemptResult(number, delay, None, _mask(error, secrets), latency)

    try:
        if endpoint.auth_type == "basic":
            credentials = f"{endpoint.auth_username or ''}:{endpoint.auth_password or ''}"
            headers["Authorization"] = "Basic " + b64(credentials)
        elif endpoint.auth_type == "oauth2":
            token_key = (
                endpoint.url,
                endpoint.oauth_token_url or "",
                endpoint.oauth_client_id or "",
                endpoint.oauth_client_secret or "",
            )
            token = await tokens.get(session, token_key, timeout)
            secrets.append(token)
            headers["Authorization"] = f"Bearer {token}"
        if endpoint.signing_secret:
            headers[SIGNATURE_HEADER] = sign_payload(body, endpoint.signing_secret)
        started = time.perf_counter()  # the token request is not the receiver's latency
        status, raw, truncated = await post_bounded(
            session, endpoint.url, body, headers, timeout, MAX_ANSWER_BYTES
        )
    except TokenError as exc:
        return failed(str(exc))
    except asyncio.TimeoutError:
        return failed(f"timed out after {timeout:g} s")
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        return failed(f"{type(exc).__name__}: {exc}")
    if status == 401 and token_key is not None:
        tokens.forget(token_key)  # rejected: fetch a fresh one next time
    answer = _mask(raw.decode("utf-8", errors="replace"), secrets)
    latency = time.perf_counter() - started
    return AttemptResult(number, delay, status, None, latency, answer, truncated)


class Deliverer:
    """``FakeLettr``'s sender: many webhooks at once; keeps OAuth 2 tokens between calls.

    ``oauth_client_auth`` chooses how the client id and secret reach the
    token endpoint: ``"basic"`` (the default, RFC 6749 section 2.3.1: HTTP
    Basic with form-encoded id and secret) or ``"body"`` (``client_id`` and
    ``client_secret`` form fields, which the RFC allows but discourages).
    """

    def __init__(self, *, oauth_client_auth: Literal["basic", "body"] = "basic") -> None:
        """Start with an empty token cache."""
        self.tokens = TokenCache(oauth_client_auth)

    def forget_tokens(self) -> None:
        """Drop every cached OAuth 2 token."""
        self.tokens.clear()

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
        ``wanted(webhook_id)`` is asked before every retry.
        """
        if not targets:
            return []

        def one(target: Target) -> Coroutine[Any, Any, DeliveryReport]:
            def on_attempt(result: AttemptResult) -> None:
                outcome: Outcome = (
                    "success" if result.accepted else "gone" if result.status == 410 else "failure"
                )
                record(target.webhook_id, outcome)

            return deliver_batch(
                session,
                self.tokens,
                target.endpoint,
                target.items,
                schedule=schedule,
                timeout=timeout,
                webhook_id=target.webhook_id,
                on_attempt=on_attempt,
                wanted=lambda: wanted(target.webhook_id),
            )

        async with aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}) as session:
            return list(await asyncio.gather(*(one(target) for target in targets)))
