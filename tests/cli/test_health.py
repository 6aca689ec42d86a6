"""``lettr-webhooks health`` against a FakeLettr holding endpoints in every state."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from lettr_async.testing import FakeLettr, Fault
from tests.helpers import API_KEY

from ._helpers import Invoke

PASSWORD = "hunter2-basic-password"
URL_PASSWORD = "s3cret-in-url"
SECRETS = (PASSWORD, URL_PASSWORD, API_KEY)


def _ago(**delta: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(**delta)).replace(microsecond=0).isoformat()


def _seed(
    fake: FakeLettr,
    name: str,
    *,
    enabled: bool = True,
    status: str | None = None,
    ok: str | None = None,
    failed: str | None = None,
    **extra: Any,
) -> str:
    url = extra.pop("url", f"https://hooks.example.com/{name}")
    view = fake.add_webhook(name=name, url=url, enabled=enabled, **extra)
    fake.webhooks[view["id"]].update(
        last_status=status, last_successful_at=ok, last_failure_at=failed
    )
    return str(view["id"])


@pytest.fixture
def states(fake_thread: FakeLettr) -> dict[str, str]:
    """Endpoints in every state, seeded out of order; name -> id."""
    fake = fake_thread
    return {
        "zeta-healthy": _seed(fake, "zeta-healthy", status="success", ok=_ago(minutes=10)),
        "old-failure": _seed(
            fake,
            "old-failure",
            status="failure",
            ok=_ago(days=5),
            failed=_ago(days=3, hours=1, minutes=30),
            url=f"https://hookuser:{URL_PASSWORD}@hooks.example.com/old",
        ),
        "off-after-410": _seed(
            fake, "off-after-410", enabled=False, status="failure", failed=_ago(hours=1)
        ),
        "alpha-new": _seed(fake, "alpha-new"),
        "recent-failure": _seed(
            fake,
            "recent-failure",
            status="failure",
            failed=_ago(hours=2, minutes=30, seconds=20),
            auth_type="basic",
            auth_username="lettr",
            auth_password=PASSWORD,
        ),
        "disabled-ok": _seed(fake, "disabled-ok", enabled=False, status="success", ok=_ago(days=1)),
    }


ORDER = [
    "recent-failure",  # failing, most recent failure first
    "old-failure",
    "disabled-ok",  # disabled, by name
    "off-after-410",
    "alpha-new",  # healthy, by name (never delivered counts as healthy)
    "zeta-healthy",
]


def _no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def test_table_orders_failing_first_and_masks_urls(invoke: Invoke, states: dict[str, str]) -> None:
    result = invoke("health")

    assert result.exit_code == 1  # default --fail-on failing: two are failing
    _no_secrets(result.stdout, result.stderr)
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["STATE", "ID", "NAME"]
    rows = [line.split() for line in lines[2:8]]
    assert [row[2] for row in rows] == ORDER
    assert [row[0] for row in rows] == ["failing"] * 2 + ["disabled"] * 2 + ["healthy"] * 2
    by_name = {line.split()[2]: line for line in lines[2:8]}
    assert "https://***@hooks.example.com/old" in by_name["old-failure"]
    assert "3d 1h ago" in by_name["old-failure"]  # since the last failure
    assert "5d 0h ago" in by_name["old-failure"]  # since the last success
    assert "2h 30m ago" in by_name["recent-failure"]
    assert by_name["alpha-new"].count("never") == 2
    assert lines[-1] == "2 failing, 2 disabled, 2 healthy."


def test_json_document(invoke: Invoke, states: dict[str, str]) -> None:
    result = invoke("health", "--json")

    assert result.exit_code == 1
    _no_secrets(result.stdout, result.stderr)
    document = json.loads(result.stdout)
    assert (document["failing"], document["disabled"], document["healthy"]) == (2, 2, 2)
    assert document["exit_code"] == 1
    hooks = document["webhooks"]
    assert [h["id"] for h in hooks] == [states[name] for name in ORDER]
    first = hooks[0]
    assert first["state"] == "failing"
    assert first["enabled"] is True
    assert first["last_status"] == "failure"
    assert first["seconds_since_last_success"] is None
    assert 2.5 * 3600 <= first["seconds_since_last_failure"] < 3 * 3600
    assert hooks[1]["url"] == "https://***@hooks.example.com/old"
    assert hooks[1]["last_failure_at"].endswith("+00:00")
    assert hooks[4]["last_status"] is None
    assert hooks[4]["last_successful_at"] is None


def test_fail_on_sets_the_exit_status(
    invoke: Invoke, fake_thread: FakeLettr, states: dict[str, str]
) -> None:
    assert invoke("health", "--fail-on", "never").exit_code == 0
    assert invoke("health", "--fail-on", "any-disabled").exit_code == 1
    for name in ("recent-failure", "old-failure"):  # they recovered
        fake_thread.webhooks[states[name]]["last_status"] = "success"
    assert invoke("health").exit_code == 0
    assert invoke("--json", "health").exit_code == 0
    assert invoke("health", "--fail-on", "any-disabled").exit_code == 1
    # "off-after-410" is disabled and its last delivery failed: disabled, not failing.
    assert invoke("health").exit_code == 0
    fake_thread.webhooks[states["off-after-410"]]["enabled"] = True  # re-enabled: failing
    assert invoke("health").exit_code == 1
    fake_thread.webhooks[states["off-after-410"]]["last_status"] = "success"
    fake_thread.webhooks[states["disabled-ok"]]["enabled"] = True
    assert invoke("health", "--fail-on", "any-disabled").exit_code == 0


def test_empty_team_and_api_failure(invoke: Invoke, fake_thread: FakeLettr) -> None:
    empty = invoke("health")
    assert (empty.exit_code, empty.stdout.strip()) == (0, "No webhooks.")
    fake_thread.inject(Fault.status(500), path="/webhooks")
    failed = invoke("health", "--json")
    assert failed.exit_code == 3  # the API's error, not "unhealthy"
    assert json.loads(failed.stdout)["error"]["status_code"] == 500
    _no_secrets(failed.stdout, failed.stderr)


def test_one_list_call(invoke: Invoke, fake_thread: FakeLettr, states: dict[str, str]) -> None:
    fake_thread.requests.clear()
    invoke("health")
    assert [(r.method, r.path) for r in fake_thread.requests] == [("GET", "/webhooks")]


def test_hostile_names_and_urls_are_escaped(invoke: Invoke, fake_thread: FakeLettr) -> None:
    _seed(fake_thread, "x", status="failure", failed=_ago(minutes=1))
    (hook_id,) = fake_thread.webhooks
    fake_thread.webhooks[hook_id]["name"] = "\x1b]0;pwned\x07\u202eevil"

    text = invoke("health")
    as_json = invoke("health", "--json")

    assert "\x1b" not in text.stdout
    assert "\u202e" not in text.stdout
    assert "\\x1b]0;pwned\\x07\\u202eevil" in text.stdout
    assert "\x1b" not in as_json.stdout
    assert json.loads(as_json.stdout)["webhooks"][0]["name"] == "\x1b]0;pwned\x07\u202eevil"
