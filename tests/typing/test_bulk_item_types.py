"""Static checks of the bulk item ``TypedDict``s: run by ``mypy --strict``, never executed.

A misspelt field in an ``update_many``/``create_many`` item must fail type
checking: the ``type: ignore[...]`` comments below are *required* (mypy's
``warn_unused_ignores``, on under ``--strict``, fails if one is not needed).
"""

from __future__ import annotations

from lettr_async import AsyncLettr, WebhookCreateFields, WebhookUpdateFields
from lettr_sync import Lettr


async def check_async_items(client: AsyncLettr) -> None:
    """The typed shapes are accepted; misspelt or mistyped keys are not."""
    await client.webhooks.update_many({"webhook-1": {"name": "x", "active": False}})
    await client.webhooks.update_many([("webhook-1", {"url": "https://example.com"})])
    await client.webhooks.update_many({"webhook-1": {"nmae": "x"}})  # type: ignore[typeddict-unknown-key]
    await client.webhooks.update_many({"webhook-1": {"active": "yes"}})  # type: ignore[typeddict-item]
    await client.webhooks.create_many(
        [{"name": "n", "url": "https://example.com", "auth_type": "none", "events_mode": "all"}]
    )
    await client.webhooks.create_many([{"name": "n"}])  # type: ignore[typeddict-item]
    await client.webhooks.create_many(
        [
            {  # type: ignore[typeddict-item, typeddict-unknown-key]
                "nmae": "n",
                "url": "https://example.com",
                "auth_type": "none",
                "events_mode": "all",
            }
        ]
    )
    item: WebhookUpdateFields = {"events": ["message.delivery"]}
    await client.webhooks.update_many({"webhook-1": item})
    created: WebhookCreateFields = {
        "name": "n",
        "url": "https://example.com",
        "auth_type": "basic",
        "events_mode": "all",
        "auth_username": "u",
        "auth_password": "p",
    }
    await client.webhooks.create_many([created])


def check_sync_items(client: Lettr) -> None:
    """The generated sync facade carries the same item types."""
    client.webhooks.update_many({"webhook-1": {"nmae": "x"}})  # type: ignore[typeddict-unknown-key]
    client.webhooks.update_many({"webhook-1": {"name": "x"}})
