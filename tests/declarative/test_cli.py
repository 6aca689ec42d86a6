"""``lettr-webhooks plan / apply / export`` in-process, against a threaded FakeLettr."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from lettr_async.testing import FakeLettr, Fault
from tests.cli._helpers import Invoke, file_runner
from tests.helpers import writes

from ._util import CLIENT_SECRET, ENV, PASSWORD, write_config


@pytest.fixture
def run(fake_thread: FakeLettr, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Invoke the CLI in ``tmp_path`` with ``ENV`` plus ``env``; never catch exceptions."""
    monkeypatch.chdir(tmp_path)
    return file_runner(fake_thread.base_url, ENV)


def test_plan_exit_codes_follow_terraform(run: Invoke, tmp_path: Path) -> None:
    write_config(tmp_path)
    result = run("plan", "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    assert (
        "Plan: 3 to create, 0 to update, 0 to replace, 0 to delete, 0 unchanged." in result.stdout
    )
    assert "auth_password: (write-only, will be sent)" in result.stdout
    assert run("plan").exit_code == 0
    assert run("apply", "--yes").exit_code == 0
    again = run("plan", "--detailed-exitcode")
    assert again.exit_code == 0
    assert "No changes." in again.stdout
    broken = run("plan", "--detailed-exitcode", ORDERS_HOOK_PASSWORD="")
    assert broken.exit_code == 1
    assert "webhooks[0] (shop-orders).auth_password" in broken.stderr
    assert run("plan", ORDERS_HOOK_PASSWORD="").exit_code == 2  # invalid file, no flag


def test_plan_json_and_a_saved_plan(run: Invoke, tmp_path: Path, fake_thread: FakeLettr) -> None:
    write_config(tmp_path)
    document = json.loads(run("plan", "--json").stdout)
    assert document["format_version"] == "1.0"
    assert document["summary"]["create"] == 3
    saved = run("plan", "-out", "plan.json")
    assert saved.exit_code == 0
    assert "apply it with: lettr-webhooks apply plan.json" in saved.stdout
    applied = run("apply", "plan.json")  # a saved plan applies without asking
    assert applied.exit_code == 0, applied.output
    assert "Apply: 3 change(s) applied." in applied.stdout
    assert len(fake_thread.webhooks) == 3
    stale = run("apply", "plan.json")
    assert stale.exit_code == 1
    assert "the plan is stale" in stale.stderr
    assert "was created" in stale.stderr


def test_apply_asks_first(
    run: Invoke, tmp_path: Path, fake_thread: FakeLettr, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lettr_async.cli._context.stdin_is_tty", lambda: True)
    write_config(tmp_path)
    refused = run("apply", input="n\n")  # declined: exit 1, as docs/cli.md says
    assert refused.exit_code == 1
    assert writes(fake_thread) == []
    accepted = run("apply", "--json", input="y\n")
    assert accepted.exit_code == 0
    assert json.loads(accepted.stdout)["apply"]["applied"] == 3


def test_apply_draws_its_progress_bar_on_stderr_for_a_terminal(
    run: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lettr_async.cli._declarative.stderr_is_tty", lambda: True)
    write_config(tmp_path)
    result = run("apply", "--yes")
    assert result.exit_code == 0, result.output
    assert "Applying" in result.stderr
    assert "Applying" not in result.stdout


def test_failed_changes_exit_1_and_a_rerun_finishes(
    run: Invoke, tmp_path: Path, fake_thread: FakeLettr
) -> None:
    write_config(tmp_path)
    fake_thread.inject(Fault.status(500), method="POST")
    failed = run("apply", "--yes", "--concurrency", "1")
    assert failed.exit_code == 1
    assert "FAILED  create" in failed.stdout
    assert "Run apply again" in failed.stdout
    assert run("apply", "--yes").exit_code == 0
    assert len(fake_thread.webhooks) == 3


def test_export_then_plan_shows_no_changes(
    run: Invoke, tmp_path: Path, fake_thread: FakeLettr
) -> None:
    fake_thread.add_webhook(name="a ${weird} name", url="https://x.example/a", events=["open"])
    fake_thread.add_webhook(name="plain", url="https://x.example/b")
    exported = run("export", "-o", "exported.toml")
    assert exported.exit_code == 0, exported.output
    assert run("export", "-o", "exported.toml").exit_code == 2  # never overwrites
    result = run("plan", "-f", "exported.toml", "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert run("export").stdout == (tmp_path / "exported.toml").read_text()


def test_export_writes_env_references_for_credentials(
    run: Invoke, tmp_path: Path, fake_thread: FakeLettr
) -> None:
    fake_thread.add_webhook(
        name="orders", url="https://x.example/o", auth_type="basic",
        auth_username="u", auth_password=PASSWORD,
    )  # fmt: skip
    text = run("export").stdout
    assert 'auth_password = { env = "LETTR_WEBHOOK_ORDERS_PASSWORD" }' in text
    (tmp_path / "lettr-webhooks.toml").write_text(text)
    plan = run("plan", LETTR_WEBHOOK_ORDERS_USERNAME="u", LETTR_WEBHOOK_ORDERS_PASSWORD=PASSWORD)
    assert "credentials will be sent: no fingerprint in the lock file" in plan.stdout


def test_no_secret_in_any_output(
    run: Invoke, tmp_path: Path, fake_thread: FakeLettr, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    write_config(tmp_path)
    outputs = [
        run("plan"),
        run("plan", "--json"),
        run("plan", "-out", "plan.json"),
        run("apply", "--yes"),
        run("plan", "--rotate", "*", "-out", "rotate.json"),
        run("apply", "rotate.json", "--json"),
        run("export"),
    ]
    fake_thread.inject(Fault.status(422), method="PUT")
    outputs.append(run("apply", "--yes", "--rotate", "shop-orders"))
    outputs.append(run("apply", "plan.json"))  # stale by now
    assert outputs[-2].exit_code == 1
    assert "422 validation_error" in outputs[-2].stdout
    assert outputs[-1].exit_code == 1
    texts = [r.stdout + r.stderr for r in outputs]
    texts += [p.read_text() for p in tmp_path.iterdir() if p.is_file()]
    texts += [record.getMessage() for record in caplog.records]
    assert any("lock.json" in p.name for p in tmp_path.iterdir())
    assert any("write-only" in t for t in texts)
    for text in texts:
        assert PASSWORD not in text
        assert CLIENT_SECRET not in text
