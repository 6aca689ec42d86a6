"""Bulk operations: one outcome per input, fail_fast, validation, cancellation, priority."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from lettr_async import (
    BulkError,
    NotAttemptedError,
    NotFoundError,
    ValidationError,
    Webhook,
    WebhookCreateFields,
    WebhookUpdateFields,
)
from lettr_async.testing import FakeLettr, Fault
from tests.helpers import make_client, requests_to

pytestmark = pytest.mark.anyio


def seed(fake: FakeLettr, count: int) -> list[str]:
    """Add ``count`` webhooks to ``fake``; their ids, in order."""
    return [
        fake.add_webhook(name=f"w{i}", url=f"https://example.com/hooks/{i}")["id"]
        for i in range(count)
    ]


def create_items(count: int) -> list[WebhookCreateFields]:
    """``count`` valid ``create_many`` items named ``n0``, ``n1``..."""
    return [
        {
            "name": f"n{i}",
            "url": f"https://example.com/new/{i}",
            "auth_type": "none",
            "events_mode": "all",
        }
        for i in range(count)
    ]


async def test_update_many_gives_one_outcome_per_input_in_order(fake: FakeLettr) -> None:
    ids = seed(fake, 6)
    updates: list[tuple[str, WebhookUpdateFields]] = [(i, {"name": f"new-{i}"}) for i in ids]
    updates.insert(2, ("webhook-missing-1", {"active": False}))
    updates.append(("webhook-missing-2", {"name": "x"}))
    progress: list[tuple[int, int]] = []
    async with make_client(fake) as client:
        result = await client.webhooks.update_many(
            updates, concurrency=3, on_progress=lambda done, total: progress.append((done, total))
        )
    assert [o.key for o in result.outcomes] == [key for key, _ in updates]
    assert len(result.succeeded) == 6
    assert [o.key for o in result.failed] == ["webhook-missing-1", "webhook-missing-2"]
    assert all(isinstance(o.error, NotFoundError) for o in result.failed)
    assert all(isinstance(o.value, Webhook) for o in result.succeeded)
    assert not result.ok
    assert progress == [(n, 8) for n in range(1, 9)]
    with pytest.raises(BulkError, match="2 of 8 bulk items failed") as info:
        result.raise_for_errors()
    assert len(info.value.exceptions) == 2


async def test_update_many_accepts_a_mapping(fake: FakeLettr) -> None:
    ids = seed(fake, 3)
    async with make_client(fake) as client:
        result = await client.webhooks.update_many({i: {"active": False} for i in ids})
    assert result.ok
    result.raise_for_errors()
    assert all(o.value is not None and o.value.enabled is False for o in result.outcomes)


async def test_every_item_is_validated_before_any_is_sent(fake: FakeLettr) -> None:
    ids = seed(fake, 3)
    async with make_client(fake) as client:
        with pytest.raises(ValidationError) as info:
            await client.webhooks.update_many(
                [
                    (ids[0], {"name": "fine"}),
                    (ids[1], {"url": "not-a-url"}),
                    ("", {"name": "x"}),
                    (ids[2], {"colour": "red"}),  # type: ignore[typeddict-unknown-key]
                    (ids[2], {}),
                ]
            )
    errors = info.value.errors
    assert "updates[1].url" in errors
    assert "updates[2].webhook_id" in errors
    assert "updates[3].colour" in errors
    assert "updates[4].webhook" in errors
    assert "updates[0].name" not in errors
    assert fake.requests == []


async def test_fail_fast_marks_untried_items_not_attempted(fake: FakeLettr) -> None:
    ids = seed(fake, 5)
    keys = [ids[0], "webhook-missing", *ids[1:]]
    async with make_client(fake) as client:
        result = await client.webhooks.delete_many(keys, concurrency=1, fail_fast=True)
    assert [o.key for o in result.outcomes] == keys
    assert result.outcomes[0].ok
    assert isinstance(result.outcomes[1].error, NotFoundError)
    assert all(isinstance(o.error, NotAttemptedError) for o in result.outcomes[2:])
    assert len(requests_to(fake, "DELETE")) == 2
    assert len(fake.webhooks) == 4


async def test_delete_many_and_create_many(fake: FakeLettr) -> None:
    ids = seed(fake, 4)
    async with make_client(fake) as client:
        deleted = await client.webhooks.delete_many(ids)
        assert deleted.ok
        assert [o.value for o in deleted.outcomes] == [None] * 4
        items = create_items(3)
        items.append(
            {
                "name": "dup",
                "url": "https://example.com/new/0",
                "auth_type": "none",
                "events_mode": "all",
            }
        )
        created = await client.webhooks.create_many(
            items,
            concurrency=1,
        )
    assert [o.key for o in created.outcomes] == [0, 1, 2, 3]
    assert [o.ok for o in created.outcomes] == [True, True, True, False]
    assert created.outcomes[3].error is not None
    assert created.outcomes[3].error.error_code == "resource_already_exists"  # type: ignore[attr-defined]


async def test_create_many_validates_every_item_first(fake: FakeLettr) -> None:
    async with make_client(fake) as client:
        with pytest.raises(ValidationError) as info:
            await client.webhooks.create_many(
                [
                    {
                        "name": "ok",
                        "url": "https://e.com/1",
                        "auth_type": "none",
                        "events_mode": "all",
                    },
                    {
                        "name": "bad",
                        "url": "https://e.com/2",
                        "auth_type": "basic",
                        "events_mode": "all",
                    },
                ]
            )
    assert "items[1].auth_username" in info.value.errors
    assert fake.requests == []


async def test_delete_many_rejects_a_bare_string(fake: FakeLettr) -> None:
    async with make_client(fake) as client:
        with pytest.raises(ValidationError):
            await client.webhooks.delete_many("webhook-abc")
        with pytest.raises(ValidationError, match="concurrency"):
            await client.webhooks.delete_many(["webhook-abc"], concurrency=0)
    assert fake.requests == []


async def test_cancelling_a_bulk_run_leaves_nothing_behind(fake: FakeLettr) -> None:
    ids = seed(fake, 40)
    fake.inject(Fault.delay(30), method="PUT", times=40)
    started = anyio.Event()
    async with make_client(fake) as client:
        session = client._state.session_for_running_loop()
        before = set(asyncio.all_tasks())

        async def run() -> None:
            await client.webhooks.update_many({i: {"name": "x"} for i in ids}, concurrency=8)

        async with anyio.create_task_group() as group:
            group.start_soon(run)
            with anyio.fail_after(10):
                while len(fake.requests) < 8:  # noqa: ASYNC110 - polling the server's record
                    await anyio.sleep(0.01)
            started.set()
            group.cancel_scope.cancel()
        assert started.is_set()
        # Only the fake server's own handlers may still be winding down.
        leftover = [
            t
            for t in set(asyncio.all_tasks()) - before
            if not getattr(t.get_coro(), "__qualname__", "").startswith("RequestHandler.")
        ]
        assert leftover == []
        connector = session.pooled.connector
        assert connector is not None
        # aiohttp closes a connection whose request was cancelled: none is leased.
        assert len(connector._acquired) == 0
    # Nothing was applied: every PUT was still waiting in the server when cancelled.
    assert all(w["name"] != "x" for w in fake.webhooks.values())


async def test_interactive_get_overtakes_a_running_bulk_job(fake: FakeLettr) -> None:
    ids = seed(fake, 300)
    fake.set_rate_limit(10)
    async with make_client(fake, rate_limit=10) as client:
        await client.webhooks.get(ids[0])  # learn the budget
        bulk_progress = anyio.Event()
        issued_at_request = 0
        get_done = anyio.Event()

        def on_progress(done: int, total: int) -> None:
            if done == 10:
                bulk_progress.set()

        async def bulk() -> None:
            await client.webhooks.update_many(
                {i: {"name": "bulk"} for i in ids}, concurrency=8, on_progress=on_progress
            )

        async with anyio.create_task_group() as group:
            group.start_soon(bulk)
            await bulk_progress.wait()
            issued_at_request = len(fake.requests)
            await client.webhooks.get(ids[-1])
            get_done.set()
            group.cancel_scope.cancel()
    assert get_done.is_set()
    after_issue = fake.requests[issued_at_request:]
    get_position = next(
        n for n, r in enumerate(after_issue) if r.method == "GET" and r.path.endswith(ids[-1])
    )
    # At most about two request slots of bulk traffic went ahead of the get.
    assert get_position <= 2
    assert fake.rate_limited_count == 0
