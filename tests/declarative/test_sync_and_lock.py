"""The generated sync facade gets plan/apply; the lock file's failure modes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lettr_async.declarative import ConfigError, LockFile, default_lock_path
from lettr_async.declarative._lock import fingerprint_credentials
from lettr_async.testing import FakeLettr
from lettr_sync import Lettr
from tests.helpers import API_KEY

from ._util import PASSWORD, load, write_config


def test_the_sync_client_plans_and_applies(fake_thread: FakeLettr, tmp_path: Path) -> None:
    path = write_config(tmp_path)
    with Lettr(API_KEY, base_url=fake_thread.base_url, rate_limit=None) as client:
        plan = client.webhooks.plan(load(path))
        result = client.webhooks.apply(plan)
        assert result.ok
        assert not client.webhooks.plan(load(path)).has_changes
    assert len(fake_thread.webhooks) == 3


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
