"""What webhooks as code needs of a client, typed here rather than imported from it.

Declarative sits above the client: it is handed the client and uses only
these public coroutines of ``client.webhooks``, so it never imports
``AsyncLettr`` or ``AsyncWebhooks`` (and they never import it).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from .._sentinel import NotGiven
from ..bulk import BulkResult
from ..models import Webhook

if TYPE_CHECKING:
    from ..types import WebhookCreateFields, WebhookUpdateFields

__all__ = ["HasWebhooks", "WebhooksApi"]


class WebhooksApi(Protocol):
    """The coroutines of ``client.webhooks`` that plan and apply call."""

    async def list(
        self, *, timeout: float | NotGiven | None = ..., max_retries: int | NotGiven = ...
    ) -> builtins.list[Webhook]: ...

    async def delete_many(
        self,
        webhook_ids: Iterable[str],
        *,
        concurrency: int = ...,
        timeout: float | NotGiven | None = ...,
        max_retries: int | NotGiven = ...,
    ) -> BulkResult[None]: ...

    async def update_many(
        self,
        updates: Sequence[tuple[str, WebhookUpdateFields]],
        *,
        concurrency: int = ...,
        timeout: float | NotGiven | None = ...,
        max_retries: int | NotGiven = ...,
    ) -> BulkResult[Webhook]: ...

    async def create_many(
        self,
        items: Iterable[WebhookCreateFields],
        *,
        concurrency: int = ...,
        timeout: float | NotGiven | None = ...,
        max_retries: int | NotGiven = ...,
    ) -> BulkResult[Webhook]: ...


class HasWebhooks(Protocol):
    """A client: ``lettr_async.AsyncLettr`` (or a ``with_options`` view of it)."""

    @property
    def webhooks(self) -> WebhooksApi:
        """The webhooks resource."""
        ...
