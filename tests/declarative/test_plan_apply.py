"""plan and apply against FakeLettr over loopback: every kind of change, convergence."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from lettr_async import declarative
from lettr_async.declarative import (
    WRITE_ONLY_SENT,
    WRITE_ONLY_UNCHANGED,
    Action,
    Plan,
    PlanError,
    StalePlanError,
)
from lettr_async.testing import FakeLettr
from tests.helpers import make_client, writes

from ._util import CLIENT_SECRET, ENV, PASSWORD, bodies, live_urls, load, write_config

pytestmark = pytest.mark.anyio

HOST = "https://shop.example.com"


async def test_first_apply_creates_then_the_second_plan_is_empty(
    fake: FakeLettr, tmp_path: Path
) -> None:
    desired = load(write_config(tmp_path))
    async with make_client(fake) as client:
        plan = await declarative.plan(client, desired)
        assert [c.action for c in plan.changes] == [Action.CREATE] * 3
        assert writes(fake) == []
        result = await declarative.apply(client, plan)
        assert result.ok
        again = await declarative.plan(client, load(tmp_path / "lettr-webhooks.toml"))
    assert not again.has_changes
    assert [c.matched_by for c in again.changes] == ["url", "url", "url"]
    assert live_urls(fake) == [f"{HOST}/hooks/{n}" for n in ("audit", "crm", "orders")]
    views = {w["name"]: w for w in fake.webhooks.values()}
    assert views["shop-audit"]["enabled"] is False
    assert views["shop-orders"]["event_types"] == ["message.bounce", "message.delivery"]
    orders_id = views["shop-orders"]["id"]
    assert fake.credentials(orders_id)["auth_password"] == PASSWORD
    # one list, then one request per change (+1 update: a create cannot disable)
    assert [r.method for r in fake.requests].count("GET") == 3
    assert writes(fake).count("POST /webhooks") == 3
    assert len(writes(fake)) == 4


async def test_every_kind_of_change_round_trips(fake: FakeLettr, tmp_path: Path) -> None:
    renamed = fake.add_webhook(name="old-name", url=f"{HOST}/hooks/orders", events=["delivery"])
    moved = fake.add_webhook(name="shop-crm", url=f"{HOST}/hooks/crm-old")
    listed = fake.add_webhook(name="shop-audit", url=f"{HOST}/hooks/audit", events=["open"])
    doomed = fake.add_webhook(name="shop-legacy", url=f"{HOST}/hooks/legacy")
    foreign = fake.add_webhook(name="billing", url=f"{HOST}/hooks/billing")
    text = f"""
[ownership]
name_prefix = "shop-"
[[webhooks]]
name = "shop-orders"
url = "${{APP_HOST}}/hooks/orders"
events = ["delivery", "bounce"]
enabled = false
[[webhooks]]
id = "{moved["id"]}"
name = "shop-crm"
url = "${{APP_HOST}}/hooks/crm"
auth_type = "basic"
auth_username = "crm"
auth_password = {{ env = "ORDERS_HOOK_PASSWORD" }}
[[webhooks]]
name = "shop-audit"
url = "${{APP_HOST}}/hooks/audit"
[[webhooks]]
name = "shop-new"
url = "${{APP_HOST}}/hooks/new"
"""
    desired = load(write_config(tmp_path, text))
    async with make_client(fake) as client:
        plan = await declarative.plan(client, desired, prune=True)
        by_name = {c.name: c for c in plan.changes}
        assert [c.action for c in plan.changes] == [
            Action.DELETE,
            Action.REPLACE,
            Action.UPDATE,
            Action.UPDATE,
            Action.CREATE,
        ]
        assert by_name["shop-legacy"].matched_by == "ownership"
        orders = by_name["shop-orders"]
        assert orders.matched_by == "url"
        assert {f.field: (f.before, f.after) for f in orders.fields} == {
            "name": ("old-name", "shop-orders"),
            "enabled": (True, False),
            "events": (["message.delivery"], ["message.bounce", "message.delivery"]),
        }
        crm = by_name["shop-crm"]
        assert crm.matched_by == "id"
        assert crm.send_credentials
        assert crm.credentials_reason == "auth type changes"
        fields = {f.field: (f.before, f.after) for f in crm.fields}
        assert fields["url"] == (f"{HOST}/hooks/crm-old", f"{HOST}/hooks/crm")
        assert fields["auth_password"] == (WRITE_ONLY_UNCHANGED, WRITE_ONLY_SENT)
        assert by_name["shop-audit"].action is Action.REPLACE  # a list cannot become "all"
        result = await declarative.apply(client, plan)
        assert result.ok, result.document()
        again = await declarative.plan(client, desired, prune=True)
    assert not again.has_changes, [c.document() for c in again.pending]
    assert doomed["id"] not in fake.webhooks
    assert listed["id"] not in fake.webhooks
    assert foreign["id"] in fake.webhooks  # outside the ownership: never touched
    assert fake.webhooks[moved["id"]]["url"] == f"{HOST}/hooks/crm"  # same id, new URL
    assert fake.webhooks[renamed["id"]]["name"] == "shop-orders"
    assert fake.credentials(moved["id"])["auth_password"] == PASSWORD
    assert f"DELETE /webhooks/{foreign['id']}" not in writes(fake)


async def test_a_stale_plan_is_refused_before_any_request(fake: FakeLettr, tmp_path: Path) -> None:
    fake.add_webhook(name="shop-orders", url=f"{HOST}/hooks/orders")
    desired = load(write_config(tmp_path))
    async with make_client(fake) as client:
        plan = await declarative.plan(client, desired)
        changed = fake.add_webhook(name="someone-else", url=f"{HOST}/elsewhere")
        fake.requests.clear()
        with pytest.raises(StalePlanError) as info:
            await declarative.apply(client, plan)
    assert [f"{r.method} {r.path}" for r in fake.requests] == ["GET /webhooks"]
    assert info.value.differences == [f"{changed['id']} ({HOST}/elsewhere) was created"]
    assert "nothing was sent" in str(info.value)
    assert not (tmp_path / "lettr-webhooks.lock.json").exists()


async def test_edits_to_a_live_endpoint_make_a_plan_stale(fake: FakeLettr, tmp_path: Path) -> None:
    hook = fake.add_webhook(name="shop-orders", url=f"{HOST}/hooks/orders")
    async with make_client(fake) as client:
        plan = await declarative.plan(client, load(write_config(tmp_path)))
        fake.webhooks[hook["id"]]["last_status"] = "failure"  # a delivery is not an edit
        fake.webhooks[hook["id"]]["name"] = "renamed by hand"
        with pytest.raises(StalePlanError, match=r"changed: name"):
            await declarative.apply(client, plan)
    assert writes(fake) == []


async def test_a_saved_plan_applies_as_is(fake: FakeLettr, tmp_path: Path) -> None:
    desired = load(write_config(tmp_path))
    async with make_client(fake) as client:
        plan = await declarative.plan(client, desired)
        text = plan.to_json()
        assert PASSWORD not in text
        assert CLIENT_SECRET not in text
        document = json.loads(text)
        assert document["format_version"] == "1.0"
        assert [rc["change"]["actions"] for rc in document["resource_changes"]] == [["create"]] * 3
        loaded = Plan.from_json(text, env=ENV)
        assert loaded == plan
        result = await declarative.apply(client, loaded)
    assert result.ok
    assert len(fake.webhooks) == 3


def test_a_saved_plan_needs_its_env_and_must_not_be_edited(tmp_path: Path) -> None:
    from lettr_async.declarative import ConfigError, LockFile, build_plan

    plan = build_plan(load(write_config(tmp_path)), [], lock=LockFile(None))
    with pytest.raises(ConfigError, match="ORDERS_HOOK_PASSWORD is not set"):
        Plan.from_json(plan.to_json(), env={**ENV, "ORDERS_HOOK_PASSWORD": ""})
    document = plan.to_dict()
    document["live_state"]["webhooks"].append(
        {"id": "w", "name": "n", "url": "https://x.example", "enabled": True, "events": "all",
         "auth_type": "none", "has_auth_credentials": False}
    )  # fmt: skip
    with pytest.raises(ConfigError, match="edited"):
        Plan.from_dict(document, env=ENV)
    with pytest.raises(ConfigError, match="not a plan"):
        Plan.from_json("[1", env={})


async def test_credentials_are_sent_only_when_needed(fake: FakeLettr, tmp_path: Path) -> None:
    path = write_config(tmp_path)
    async with make_client(fake) as client:
        assert (await declarative.apply(client, await declarative.plan(client, load(path)))).ok
        orders_id = next(k for k, v in fake.webhooks.items() if v["name"] == "shop-orders")
        fake.requests.clear()
        # same secrets: nothing to do, nothing sent
        assert not (await declarative.plan(client, load(path))).has_changes
        # a new password in the environment: its fingerprint differs, so it is sent
        plan = await declarative.plan(client, load(path, ORDERS_HOOK_PASSWORD="rotated-Pw-2"))
        (change,) = plan.pending
        assert change.credentials_reason == "credentials changed since the last apply"
        assert (await declarative.apply(client, plan)).ok
        assert fake.credentials(orders_id)["auth_password"] == "rotated-Pw-2"
        # explicit rotation sends unchanged secrets again
        rotated = load(path, ORDERS_HOOK_PASSWORD="rotated-Pw-2")
        plan = await declarative.plan(client, rotated, rotate=["shop-crm"])
        assert [c.name for c in plan.pending] == ["shop-crm"]
        assert plan.pending[0].credentials_reason == "rotation requested"
        # a lost lock file means unknown fingerprints: send once more
        (tmp_path / "lettr-webhooks.lock.json").unlink()
        plan = await declarative.plan(client, rotated)
        assert {c.credentials_reason for c in plan.pending} == {
            "no fingerprint in the lock file (first apply of this endpoint)"
        }
    puts = bodies(fake, "PUT")
    assert puts[0] == {"auth_type": "basic", "auth_username": "lettr",
                       "auth_password": "rotated-Pw-2"}  # fmt: skip
    sent = [b.get("auth_password") or b.get("oauth_client_secret") for b in puts]
    assert all(s is not None and "*" not in s for s in sent)


async def test_pruning_is_opt_in_and_scoped(fake: FakeLettr, tmp_path: Path) -> None:
    mine = fake.add_webhook(name="shop-gone", url=f"{HOST}/hooks/gone")
    other = fake.add_webhook(name="partner-hook", url="https://partner.example/hook")
    desired = load(write_config(tmp_path))
    async with make_client(fake) as client:
        plan = await declarative.plan(client, desired)
        assert mine["id"] not in {c.webhook_id for c in plan.changes}
        pruned = await declarative.plan(client, desired, prune=True)
        assert [c.webhook_id for c in pruned.changes if c.action is Action.DELETE] == [mine["id"]]
        assert pruned.changes[0].action is Action.DELETE  # deletions are listed first
        assert (await declarative.apply(client, pruned)).ok
        unscoped = load(write_config(tmp_path, "[[webhooks]]\nname='x'\nurl='https://x.example'"))
        with pytest.raises(PlanError, match="cannot be applied") as info:
            await declarative.plan(client, unscoped, prune=True)
    assert "[ownership]" in " ".join(info.value.errors[str(tmp_path / "lettr-webhooks.toml")])
    assert other["id"] in fake.webhooks
    assert mine["id"] not in fake.webhooks


async def test_plan_errors_name_the_entry(fake: FakeLettr, tmp_path: Path) -> None:
    taken = fake.add_webhook(name="shop-x", url=f"{HOST}/hooks/taken")
    pinned = fake.add_webhook(name="shop-y", url=f"{HOST}/hooks/y")
    text = f"""
[[webhooks]]
id = "webhook-doesnotexist"
name = "a"
url = "{HOST}/a"
[[webhooks]]
id = "{pinned["id"]}"
name = "b"
url = "{HOST}/hooks/taken"
"""
    async with make_client(fake) as client:
        with pytest.raises(PlanError) as info:
            await declarative.plan(client, load(write_config(tmp_path, text)))
    errors = info.value.errors
    assert "no webhook with id" in " ".join(errors['webhooks["a"].id'])
    assert f"is used by {taken['id']}" in " ".join(errors['webhooks["b"].url'])
    assert writes(fake) == []


async def test_a_change_the_sdk_rejects_still_gets_one_outcome(
    fake: FakeLettr, tmp_path: Path
) -> None:
    from lettr_async import ValidationError

    desired = load(write_config(tmp_path))
    async with make_client(fake) as client:
        plan = await declarative.plan(client, desired)
        first = plan.changes[0]
        assert first.after is not None
        broken = attrs.evolve(first, after=attrs.evolve(first.after, url="not a url"))
        edited = attrs.evolve(plan, changes=(broken, *plan.changes[1:]))  # built in memory
        result = await declarative.apply(client, edited)
    assert len(result.outcomes) == 3
    assert all(isinstance(o.error, ValidationError) for o in result.outcomes)
    assert writes(fake) == []  # the bulk engine validates every item before sending any


async def test_a_pinned_endpoint_is_never_replaced(fake: FakeLettr, tmp_path: Path) -> None:
    hook = fake.add_webhook(name="a", url=f"{HOST}/a", events=["open"])
    text = f'[[webhooks]]\nid = "{hook["id"]}"\nname = "a"\nurl = "{HOST}/a"\nevents = "all"\n'
    async with make_client(fake) as client:
        with pytest.raises(PlanError) as info:
            await declarative.plan(client, load(write_config(tmp_path, text)))
    assert "pins its id" in " ".join(info.value.errors['webhooks["a"].events'])


async def test_auth_can_be_removed(fake: FakeLettr, tmp_path: Path) -> None:
    hook = fake.add_webhook(
        name="a", url=f"{HOST}/a", auth_type="basic", auth_username="u", auth_password=PASSWORD
    )
    desired = load(write_config(tmp_path, f'[[webhooks]]\nname = "a"\nurl = "{HOST}/a"\n'))
    async with make_client(fake) as client:
        plan = await declarative.plan(client, desired)
        (change,) = plan.pending
        assert [(f.field, f.before, f.after) for f in change.fields] == [
            ("auth_type", "basic", "none")
        ]
        assert (await declarative.apply(client, plan)).ok
        assert not (await declarative.plan(client, desired)).has_changes
    assert fake.webhooks[hook["id"]]["has_auth_credentials"] is False
    assert bodies(fake, "PUT") == [{"auth_type": "none"}]


async def test_apply_reports_progress_once_per_change(fake: FakeLettr, tmp_path: Path) -> None:
    fake.add_webhook(name="shop-gone", url=f"{HOST}/gone")
    fake.add_webhook(name="shop-audit", url=f"{HOST}/hooks/audit", enabled=True)
    progress: list[tuple[int, int]] = []
    async with make_client(fake) as client:
        plan = await declarative.plan(client, load(write_config(tmp_path)), prune=True)
        result = await declarative.apply(
            client, plan, on_progress=lambda done, total: progress.append((done, total))
        )
    assert [c.action for c in plan.pending] == [
        Action.DELETE,
        Action.UPDATE,
        Action.CREATE,
        Action.CREATE,
    ]
    assert [o.change for o in result.outcomes] == list(plan.pending)
    assert progress == [(n, 4) for n in range(1, 5)]


async def test_declarative_plan_and_apply_take_the_client(fake: FakeLettr, tmp_path: Path) -> None:
    desired = load(write_config(tmp_path))
    async with make_client(fake) as client:
        plan = await declarative.plan(client, desired)
        assert [c.action for c in plan.changes] == [Action.CREATE] * 3
        result = await declarative.apply(client.with_options(max_retries=0), plan, concurrency=1)
        assert result.ok
        again = await declarative.plan(client, load(tmp_path / "lettr-webhooks.toml"))
    assert not again.has_changes
    assert live_urls(fake) == [f"{HOST}/hooks/{n}" for n in ("audit", "crm", "orders")]
