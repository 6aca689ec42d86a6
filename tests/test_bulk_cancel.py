"""Cancelled bulk runs: every input keeps exactly one outcome, readable through a BulkLedger.

The cancel point is deterministic (``on_progress`` cancels after N
completions), never a wall-clock sleep.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from lettr_async import (
    BulkLedger,
    BulkResult,
    NotAttemptedError,
    NotFoundError,
    OutcomeUnknownError,
    ValidationError,
    Webhook,
)
from lettr_async.testing import FakeLettr, Fault
from tests.helpers import ctrl_c_raises, make_client, requests_to
from tests.sync.conftest import make_sync_client
from tests.test_bulk import create_items, seed

pytestmark = pytest.mark.anyio

STATUSES = {"succeeded", "failed", "not_sent", "unknown"}


def _cancel_after(n: int, cancel: Callable[[], Any], seen: list[int]) -> Callable[[int, int], None]:
    def on_progress(done: int, total: int) -> None:
        seen.append(done)
        if done == n:
            cancel()

    return on_progress


def _by_status(result: BulkResult[Any]) -> dict[str, set[Any]]:
    groups: dict[str, set[Any]] = {status: set() for status in STATUSES}
    for outcome in result.outcomes:
        groups[outcome.status].add(outcome.key)
    return groups


def _assert_partition(result: BulkResult[Any], keys: list[Any]) -> None:
    """Every input exactly once, in input order, in exactly one of the four groups."""
    assert [o.key for o in result.outcomes] == keys
    groups = _by_status(result)
    assert sum(len(g) for g in groups.values()) == len(keys) == len(set(keys))
    assert {o.key for o in result.succeeded} == groups["succeeded"]
    assert {o.key for o in result.not_sent} == groups["not_sent"]
    assert {o.key for o in result.unknown} == groups["unknown"]
    assert all(isinstance(o.error, NotAttemptedError) for o in result.not_sent)
    assert all(isinstance(o.error, OutcomeUnknownError) for o in result.unknown)


def _sent_ids(fake: FakeLettr, method: str) -> set[str]:
    return {r.path.rsplit("/", 1)[-1] for r in requests_to(fake, method)}


async def test_one_at_a_time_cancel_reports_exactly_what_the_server_applied(
    fake: FakeLettr,
) -> None:
    ids = seed(fake, 100)
    ledger: BulkLedger[Webhook] = BulkLedger()
    seen: list[int] = []
    async with make_client(fake) as client:
        with anyio.CancelScope() as scope:
            await client.webhooks.update_many(
                {i: {"name": "x"} for i in ids},
                concurrency=1,
                ledger=ledger,
                on_progress=_cancel_after(64, lambda: scope.cancel(), seen),
            )
        assert scope.cancelled_caught
    result = ledger.result()
    _assert_partition(result, ids)
    applied = {i for i, hook in fake.webhooks.items() if hook["name"] == "x"}
    assert {o.key for o in result.succeeded} == applied
    assert len(applied) == 64
    assert seen == list(range(1, 65))  # on_progress saw every completion
    # Nothing was in flight: the cancel landed before the 65th item was taken.
    assert result.unknown == []
    assert {o.key for o in result.not_sent} == set(ids[64:])
    assert _sent_ids(fake, "PUT") == applied
    assert all(o.value is not None and o.value.name == "x" for o in result.succeeded)


async def test_concurrent_cancel_separates_sent_from_never_sent(fake: FakeLettr) -> None:
    ids = seed(fake, 100)
    keys = [*ids[:50], "webhook-missing", *ids[50:]]
    ledger: BulkLedger[None] = BulkLedger()
    seen: list[int] = []
    async with make_client(fake) as client:

        async def run() -> None:
            await client.webhooks.delete_many(
                keys, concurrency=8, ledger=ledger, on_progress=on_progress
            )

        task = asyncio.create_task(run())
        on_progress = _cancel_after(40, task.cancel, seen)
        # A plain CancelledError reaches the awaiter: structured concurrency intact.
        with pytest.raises(asyncio.CancelledError):
            await task
    result = ledger.result()
    _assert_partition(result, keys)
    groups = _by_status(result)
    deleted = set(ids) - set(fake.webhooks)
    assert groups["succeeded"] <= deleted <= groups["succeeded"] | groups["unknown"]
    # Answers already received while the cancel spread may still be recorded.
    assert len(groups["succeeded"]) + len(groups["failed"]) == seen[-1] >= 40
    assert seen == list(range(1, seen[-1] + 1))
    assert all(isinstance(o.error, NotFoundError) for o in result.failed if o.status == "failed")
    sent = _sent_ids(fake, "DELETE")
    assert not groups["not_sent"] & sent  # "not sent" is never a lie
    assert groups["not_sent"]  # the run really was cut short
    assert len(groups["unknown"]) <= 8


async def test_rerunning_a_cancelled_create_many_from_its_ledger_makes_no_twins(
    fake: FakeLettr,
) -> None:
    items = create_items(40)
    ledger: BulkLedger[Webhook] = BulkLedger()
    async with make_client(fake) as client:
        with anyio.CancelScope() as scope:
            await client.webhooks.create_many(
                items, concurrency=4, ledger=ledger, on_progress=_cancel_after(10, scope.cancel, [])
            )
        result = ledger.result()
        _assert_partition(result, list(range(40)))
        created = {hook["name"] for hook in fake.webhooks.values()}
        succeeded = {items[o.key]["name"] for o in result.succeeded}  # type: ignore[index]
        unknown = {items[o.key]["name"] for o in result.unknown}  # type: ignore[index]
        assert succeeded <= created <= succeeded | unknown
        posted = {r.json["name"] for r in requests_to(fake, "POST")}
        assert not {items[o.key]["name"] for o in result.not_sent} & posted  # type: ignore[index]
        # The documented recovery: resend the never-sent, and the unknown not on the server.
        live = {hook.name for hook in await client.webhooks.list()}
        again = [
            items[o.key]  # type: ignore[index]
            for o in result.outcomes
            if o.status == "not_sent"
            or (o.status == "unknown" and items[o.key]["name"] not in live)  # type: ignore[index]
        ]
        rerun = await client.webhooks.create_many(again, concurrency=4)
    assert rerun.ok
    names = sorted(hook["name"] for hook in fake.webhooks.values())
    assert names == sorted(item["name"] for item in items)


async def test_a_finished_run_fills_the_ledger_like_its_result(fake: FakeLettr) -> None:
    ids = seed(fake, 5)
    keys = [ids[0], "webhook-missing", *ids[1:]]
    ledger: BulkLedger[None] = BulkLedger()
    assert ledger.result().outcomes == []
    async with make_client(fake) as client:
        result = await client.webhooks.delete_many(
            keys, concurrency=1, fail_fast=True, ledger=ledger
        )
    assert ledger.result() == result
    assert [o.status for o in result.outcomes] == ["succeeded", "failed", *["not_sent"] * 4]
    assert repr(ledger) == "BulkLedger(6 of 6 items have an outcome)"
    assert ledger.finished
    assert ledger.wait(0)
    assert not BulkLedger().finished
    assert repr(BulkLedger()) == "BulkLedger(unused)"


async def test_a_used_or_wrong_ledger_fails_before_anything_is_sent(fake: FakeLettr) -> None:
    ids = seed(fake, 2)
    ledger: BulkLedger[None] = BulkLedger()
    async with make_client(fake) as client:
        await client.webhooks.delete_many(ids[:1], ledger=ledger)
        sent = len(fake.requests)
        with pytest.raises(ValidationError) as used:
            await client.webhooks.delete_many(ids[1:], ledger=ledger)
        with pytest.raises(ValidationError) as wrong:
            await client.webhooks.delete_many(ids[1:], ledger=[])  # type: ignore[arg-type]
    assert "ledger" in used.value.errors
    assert "new BulkLedger" in used.value.errors["ledger"][0]
    assert "list" in wrong.value.errors["ledger"][0]
    assert len(fake.requests) == sent
    assert ids[1] in fake.webhooks


def test_ctrl_c_during_a_sync_bulk_call_leaves_a_ledger_that_settles(
    fake_thread: FakeLettr,
) -> None:
    """The sync facade cancels in its loop thread after the interrupt: ``wait`` for the end."""
    ids = seed(fake_thread, 60)
    ledger: BulkLedger[Webhook] = BulkLedger()
    main = threading.main_thread().ident or 0

    def on_progress(done: int, total: int) -> None:  # runs in the client's loop thread
        if done == 20:
            signal.pthread_kill(main, signal.SIGINT)

    with ctrl_c_raises(), make_sync_client(fake_thread) as client:
        with pytest.raises(KeyboardInterrupt):
            client.webhooks.update_many(
                {i: {"name": "x"} for i in ids},
                concurrency=2,
                ledger=ledger,
                on_progress=on_progress,
            )
        assert ledger.wait(30)
        assert ledger.finished
    result = ledger.result()
    _assert_partition(result, ids)
    groups = _by_status(result)
    applied = {i for i, hook in fake_thread.webhooks.items() if hook["name"] == "x"}
    assert groups["succeeded"] <= applied <= groups["succeeded"] | groups["unknown"]
    assert len(groups["succeeded"]) >= 20
    assert not groups["not_sent"] & _sent_ids(fake_thread, "PUT")


async def test_held_by_the_server_is_unknown_and_waiting_for_a_slot_is_not_sent(
    fake: FakeLettr,
) -> None:
    ids = seed(fake, 10)
    fake.inject(Fault.delay(30), method="PUT", times=1)
    ledger: BulkLedger[Webhook] = BulkLedger()
    # Cold start: one request goes first and the other workers wait in the
    # limiter for its headers (at worst for the 10 s default slot).
    async with make_client(fake, rate_limit=0.1) as client, anyio.create_task_group() as group:

        async def run() -> None:
            await client.webhooks.update_many(
                {i: {"name": "x"} for i in ids}, concurrency=4, ledger=ledger
            )

        group.start_soon(run)
        with anyio.fail_after(30):
            while not fake.requests:  # noqa: ASYNC110 - polling the server's record
                await anyio.sleep(0.01)
        group.cancel_scope.cancel()
    assert ledger.finished
    result = ledger.result()
    _assert_partition(result, ids)
    # Items 2-4 had been taken by workers but never left the limiter: not sent.
    assert [o.status for o in result.outcomes] == ["unknown", *["not_sent"] * 9]
    assert "may have applied it" in str(result.outcomes[0].error)
    assert len(fake.requests) == 1
