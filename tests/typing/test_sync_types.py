"""Static checks of the sync API's types: run by ``mypy --strict``, never executed.

Importing this module has no side effects: the checks live in a function
nobody calls (and whose name pytest does not collect).
"""

from __future__ import annotations

import builtins

from typing_extensions import assert_type

import lettr_sync
from lettr_sync import (
    BulkResult,
    Lettr,
    LettrError,
    RateLimitInfo,
    SyncInAsyncContextWarning,
    Webhook,
    Webhooks,
)


def check_sync_types(client: Lettr) -> None:
    """Every sync method returns exactly what its coroutine returns, without ``Awaitable``."""
    assert_type(client.webhooks, Webhooks)
    assert_type(client.webhooks.list(), builtins.list[Webhook])
    assert_type(client.webhooks.list(timeout=1.5, max_retries=0), builtins.list[Webhook])
    assert_type(client.webhooks.get("webhook-1"), Webhook)
    assert_type(
        client.webhooks.create(
            name="n", url="https://example.com", auth_type="none", events_mode="all"
        ),
        Webhook,
    )
    assert_type(client.webhooks.update("webhook-1", name="n", active=False), Webhook)
    assert_type(client.webhooks.delete("webhook-1"), None)
    assert_type(client.webhooks.update_many({"webhook-1": {"name": "n"}}), BulkResult[Webhook])
    assert_type(client.webhooks.delete_many(["webhook-1"]), BulkResult[None])
    assert_type(
        client.webhooks.create_many(
            [{"name": "n", "url": "https://example.com", "auth_type": "none", "events_mode": "all"}]
        ),
        BulkResult[Webhook],
    )
    assert_type(client.with_options(timeout=2), Lettr)
    assert_type(client.rate_limit_info, RateLimitInfo)
    assert_type(client.rate_limit, float | None)
    assert_type(client.base_url, str)
    assert_type(client.timeout, float | None)
    assert_type(client.max_retries, int)
    assert_type(client.is_closed, bool)
    assert_type(client.close(), None)
    with lettr_sync.Lettr("lttr_x") as managed:
        assert_type(managed, Lettr)
    # The generated constructor and with_options keep AsyncLettr's typed options (no
    # **kwargs: an unknown option is an error, or this ignore would be unused).
    configured = lettr_sync.Lettr(
        "lttr_x", base_url="http://127.0.0.1", timeout=None, max_retries=1, rate_limit=None
    )
    assert_type(configured.with_options(max_retries=0).with_options(timeout=None), Lettr)
    lettr_sync.Lettr("lttr_x", no_such_option=1)  # type: ignore[call-arg]
    assert issubclass(SyncInAsyncContextWarning, RuntimeWarning)
    assert issubclass(lettr_sync.NotFoundError, LettrError)
