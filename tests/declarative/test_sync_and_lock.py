"""``lettr_sync.declarative``: the async flows, file I/O in the calling thread; the lock file."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from lettr_async import AsyncLettr, Hooks, declarative
from lettr_async.declarative import (
    ApplyResult,
    ConfigError,
    LockFile,
    Plan,
    default_lock_path,
)
from lettr_async.declarative._lock import fingerprint_credentials
from lettr_async.hooks import Request
from lettr_async.testing import FakeLettr
from lettr_sync import Lettr
from lettr_sync import declarative as sync_declarative
from tests.helpers import API_KEY

from ._util import ENV, PASSWORD, load, write_config


def _seed(fake: FakeLettr) -> None:
    """An owned endpoint the file no longer lists (pruned) and one it updates."""
    fake.add_webhook(name="shop-legacy", url="https://shop.example.com/hooks/legacy")
    fake.add_webhook(name="shop-orders-old", url="https://shop.example.com/hooks/orders")


def _outcomes(result: ApplyResult) -> list[tuple[str, str, bool, bool]]:
    """Each outcome without ids (addresses of live endpoints hold their random ids)."""
    return [(o.change.action.value, o.change.url, o.ok, o.adopted) for o in result.outcomes]


def _state(fake: FakeLettr) -> list[dict[str, Any]]:
    """The fake's endpoints without their random ids, by URL."""
    views = [{k: v for k, v in w.items() if k != "id"} for w in fake.webhooks.values()]
    return sorted(views, key=lambda w: str(w["url"]))


def _async_plan(fake: FakeLettr, path: Path) -> Plan:
    async def go() -> Plan:
        async with AsyncLettr(API_KEY, base_url=fake.base_url, rate_limit=None) as client:
            return await declarative.plan(client, load(path), prune=True)

    return asyncio.run(go())


def _async_apply(fake: FakeLettr, plan: Plan) -> ApplyResult:
    async def go() -> ApplyResult:
        async with AsyncLettr(API_KEY, base_url=fake.base_url, rate_limit=None) as client:
            return await declarative.apply(client, plan)

    return asyncio.run(go())


def _writes(fake: FakeLettr) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in fake.requests if r.method != "GET"]


def test_sync_plan_and_apply_match_the_async_ones(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "s").mkdir()
    path_a, path_s = write_config(tmp_path / "a"), write_config(tmp_path / "s")
    with FakeLettr.in_thread() as fake_a, FakeLettr.in_thread() as fake_s:
        _seed(fake_a)
        _seed(fake_s)
        async_plan = _async_plan(fake_a, path_a)
        async_result = _async_apply(fake_a, async_plan)
        with Lettr(API_KEY, base_url=fake_s.base_url, rate_limit=None) as client:
            plan = sync_declarative.plan(client, load(path_s), prune=True)
            assert plan == _async_plan(fake_s, path_s)  # the same state plans the same
            result = sync_declarative.apply(client, plan)
            assert not sync_declarative.plan(client, load(path_s), prune=True).has_changes
    assert (
        plan.summary()
        == async_plan.summary()
        == {
            "create": 2,
            "update": 1,
            "replace": 0,
            "delete": 1,
            "no-op": 0,
        }
    )
    assert result.ok
    assert _outcomes(result) == _outcomes(async_result)
    assert _state(fake_s) == _state(fake_a)
    assert len(_writes(fake_s)) == len(_writes(fake_a)) == 5


def test_a_sync_apply_touches_the_lock_file_in_the_calling_thread(
    fake_thread: FakeLettr, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only HTTP runs in the client's loop thread; lock reads and writes run in the caller's."""
    seen: list[tuple[str, int]] = []
    load_lock, save_lock = LockFile.load, LockFile.save

    def observed_load(path: Any) -> LockFile:
        seen.append(("load", threading.get_ident()))
        return load_lock(path)

    def observed_save(lock: LockFile) -> None:
        seen.append(("save", threading.get_ident()))
        save_lock(lock)

    monkeypatch.setattr(LockFile, "load", observed_load)
    monkeypatch.setattr(LockFile, "save", observed_save)

    def on_request(request: Request) -> None:
        seen.append(("http", threading.get_ident()))

    def on_progress(done: int, total: int) -> None:
        seen.append(("progress", threading.get_ident()))

    path = write_config(tmp_path)
    hooks = Hooks(on_request=on_request)
    with Lettr(API_KEY, base_url=fake_thread.base_url, rate_limit=None, hooks=hooks) as client:
        plan = sync_declarative.plan(client, load(path))
        # A saved plan is planned again from its file: that reads the lock file too.
        saved = Plan.from_json(plan.to_json(), env=ENV)
        assert sync_declarative.apply(client, saved, on_progress=on_progress).ok
    here = threading.get_ident()
    files = [(step, ident) for step, ident in seen if step in ("load", "save")]
    assert [step for step, _ in files] == ["load", "load", "load", "save"]
    assert {ident for _, ident in files} == {here}
    # HTTP, and so on_progress (as for the sync *_many methods), run in the client's loop.
    assert here not in {ident for step, ident in seen if step in ("http", "progress")}
    assert len([step for step, _ in seen if step == "progress"]) == 3
    # list (plan), list (apply), 3 creates, 1 update disabling shop-audit
    assert len([step for step, _ in seen if step == "http"]) == 6
    assert default_lock_path(path).exists()


def test_the_lock_file_holds_salted_fingerprints_only(tmp_path: Path) -> None:
    state = load(write_config(tmp_path))
    orders = state.webhooks[0]
    first = fingerprint_credentials("basic", orders.credentials)
    second = fingerprint_credentials("basic", orders.credentials)
    assert first.salt != second.salt
    assert first.digest != second.digest  # salted: equal secrets do not look equal
    assert first.matches("basic", orders.credentials)
    assert not first.matches("oauth2", orders.credentials)
    lock = LockFile(default_lock_path(tmp_path / "lettr-webhooks.toml"), {"w-1": first})
    lock.save()
    text = lock.path.read_text() if lock.path else ""
    assert PASSWORD not in text
    assert LockFile.load(lock.path).entries == {"w-1": first}
    # written atomically: no temporary file is left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "lettr-webhooks.lock.json",
        "lettr-webhooks.toml",
    ]


def test_a_corrupt_or_unwritable_lock_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.lock.json"
    path.write_text(json.dumps({"version": 1, "webhooks": {"w": {"salt": "zz"}}}))
    with pytest.raises(ConfigError, match="corrupt; delete it"):
        LockFile.load(path)
    with pytest.raises(ConfigError, match="cannot write lock file"):
        LockFile(tmp_path / "missing-dir" / "x.lock.json").save()
    assert LockFile.load(tmp_path / "absent.json").entries == {}
