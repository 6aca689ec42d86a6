"""``trigger``: deliver realistic events to one URL, Lettr's way, from Python or a terminal.

Why: whoever builds a receiver wants to fire a ``bounce`` at
``http://localhost:8000/hooks/lettr`` now, with the auth the endpoint
expects, and watch it answer 500 and be retried, without sending mail or
waiting for Lettr. ``WebhookSender`` is the same engine as
``FakeLettr.deliver`` (``deliver_batch``) bound to one ``Endpoint``;
``trigger`` adds event names, overrides, batching and exact repeats, and is
what ``lettr-webhooks trigger`` runs. Only the endpoint's URL and its OAuth
token URL are ever contacted; redirects are not followed and proxy
settings from the environment are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal

import aiohttp

from ._delivery import (
    DEFAULT_ATTEMPT_TIMEOUT,
    DEFAULT_TIME_SCALE,
    USER_AGENT,
    AttemptResult,
    DeliveryReport,
    Endpoint,
    deliver_batch,
    scaled_schedule,
)
from ._oauth import TokenCache
from .events import expand_event_names, make_event, with_fields

__all__ = ["WebhookSender", "build_items", "plan_posts", "trigger"]


def _check_seconds(value: float, field: str, *, allow_zero: bool) -> None:
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{field}: must be a finite number of seconds above 0")


class WebhookSender:
    """Delivers batches to one endpoint with Lettr's auth and retries (an async context manager).

    ``time_scale`` multiplies Lettr's retry schedule (default
    ``DEFAULT_TIME_SCALE``: the 35 hours in about a second; ``1.0`` is real
    time) unless ``retry_schedule`` gives the waits outright; ``retry=False``
    makes one attempt per batch. ``timeout`` bounds each attempt (Lettr's 30
    seconds, not scaled). One HTTP session and one OAuth token cache serve
    every ``send``. Invalid settings raise ``ValueError`` naming the field
    before anything is sent.
    """

    def __init__(
        self,
        endpoint: Endpoint | str,
        *,
        time_scale: float = DEFAULT_TIME_SCALE,
        retry_schedule: Sequence[float] | None = None,
        retry: bool = True,
        timeout: float = DEFAULT_ATTEMPT_TIMEOUT,
        oauth_client_auth: Literal["basic", "body"] = "basic",
    ) -> None:
        """Check the endpoint and settings; the session opens on ``__aenter__``."""
        self.endpoint = Endpoint(endpoint) if isinstance(endpoint, str) else endpoint
        self.endpoint.validate()
        _check_seconds(time_scale, "time_scale", allow_zero=True)
        _check_seconds(timeout, "timeout", allow_zero=False)
        self.schedule = scaled_schedule(time_scale, retry_schedule) if retry else []
        for delay in self.schedule:
            _check_seconds(delay, "retry_schedule", allow_zero=True)
        self.timeout = timeout
        self._tokens = TokenCache(oauth_client_auth)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> WebhookSender:
        """Open the HTTP session."""
        self._session = aiohttp.ClientSession(headers={"User-Agent": USER_AGENT})
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self,
        items: Sequence[Mapping[str, Any]],
        *,
        on_attempt: Callable[[AttemptResult], None] | None = None,
    ) -> DeliveryReport:
        """Deliver ``items`` as one JSON array, retried like Lettr; the report.

        ``on_attempt`` runs after each attempt (to show progress).
        """
        if self._session is None:
            raise RuntimeError("use WebhookSender in 'async with'")
        return await deliver_batch(
            self._session,
            self._tokens,
            self.endpoint,
            items,
            schedule=self.schedule,
            timeout=self.timeout,
            on_attempt=on_attempt,
        )


def build_items(
    events: Iterable[Mapping[str, Any] | str], fields: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Delivery items for ``events``: names (``all`` too) become ``make_event``, with ``fields``.

    Raises ``ValueError`` for an unknown name or an item of the wrong shape.
    """
    items: list[dict[str, Any]] = []
    for entry in events:
        if isinstance(entry, str):
            items.extend(make_event(name) for name in expand_event_names([entry]))
        else:
            items.append(dict(entry))
    return [with_fields(item, fields) for item in items] if fields else items


def plan_posts(
    items: Sequence[Mapping[str, Any]], batch_size: int = 1, repeat: int = 0
) -> list[tuple[list[Mapping[str, Any]], int]]:
    """The POSTs ``trigger`` makes, in order: ``(batch, repeat_number)`` pairs.

    ``batch_size`` items per batch; each batch is followed by ``repeat``
    identical copies (``repeat_number`` 1, 2...). ``ValueError`` names a bad
    argument.
    """
    if batch_size < 1:
        raise ValueError("batch_size: must be at least 1")
    if repeat < 0:
        raise ValueError("repeat: must not be negative")
    if not items:
        raise ValueError("events: nothing to deliver")
    return [
        (list(items[start : start + batch_size]), number)
        for start in range(0, len(items), batch_size)
        for number in range(repeat + 1)
    ]


async def trigger(
    endpoint: Endpoint | str,
    events: Iterable[Mapping[str, Any] | str],
    *,
    batch_size: int = 1,
    repeat: int = 0,
    fields: Mapping[str, Any] | None = None,
    time_scale: float = DEFAULT_TIME_SCALE,
    retry_schedule: Sequence[float] | None = None,
    retry: bool = True,
    timeout: float = DEFAULT_ATTEMPT_TIMEOUT,
    oauth_client_auth: Literal["basic", "body"] = "basic",
    on_attempt: Callable[[AttemptResult], None] | None = None,
) -> list[DeliveryReport]:
    """Deliver ``events`` to ``endpoint`` the way Lettr would; one report per POST, in order.

    ``events`` are event names (canonical, short, legacy, or ``all``) and/or
    delivery items; ``fields`` override inner fields of every item
    (``{"rcpt_to": "x@example.com"}``). Items go ``batch_size`` per POST, one
    batch after the other; each batch is then sent ``repeat`` more times,
    byte for byte (same ``event_id``\\ s), to exercise de-duplication
    (``plan_posts`` gives the order). ``on_attempt`` runs after every
    attempt. The other options are ``WebhookSender``'s.
    ``report.delivered`` is true for a batch the receiver accepted.
    """
    plan = plan_posts(build_items(events, fields), batch_size, repeat)
    sender = WebhookSender(
        endpoint,
        time_scale=time_scale,
        retry_schedule=retry_schedule,
        retry=retry,
        timeout=timeout,
        oauth_client_auth=oauth_client_auth,
    )
    async with sender:
        return [await sender.send(batch, on_attempt=on_attempt) for batch, _number in plan]
