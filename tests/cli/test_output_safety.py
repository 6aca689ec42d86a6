"""What the CLI prints is safe: masked URL credentials, escaped control codes, JSON errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

import lettr_async.cli._context as cli_context
from lettr_async import AsyncLettr, AuthType, Webhook
from lettr_async.testing import FakeLettr
from tests.helpers import writes

from ._helpers import Invoke, parse

HOSTILE_NAME = "\x1b]0;pwned\x07evil\u202eexe.txt\x9b31m\x00"
CRED_URL = "https://hookuser:hunter2@hooks.example.com/lettr?x=1"
MASKED_URL = "https://***@hooks.example.com/lettr?x=1"
RAW_CONTROLS = ("\x1b", "\x07", "\u202e", "\x9b", "\x00")


def hostile(fake: FakeLettr) -> str:
    webhook_id: str = fake.add_webhook(name="placeholder", url=CRED_URL)["id"]
    fake.webhooks[webhook_id]["name"] = HOSTILE_NAME  # what a compromised server could send
    return webhook_id


def assert_no_raw_controls(text: str) -> None:
    for char in RAW_CONTROLS:
        assert char not in text, repr(char)


# -- URL credentials (issue 10, item 4) ---------------------------------------------


def test_repr_of_a_webhook_masks_url_credentials() -> None:
    hook = Webhook("webhook-1", "n", CRED_URL, True, AuthType.NONE, False)
    assert "hunter2" not in repr(hook)
    assert "hookuser" not in repr(hook)
    assert MASKED_URL in repr(hook)
    assert hook.url == CRED_URL  # the value itself is untouched


@pytest.mark.parametrize(
    "args",
    [("list",), ("list", "--json"), ("get", "{id}"), ("get", "{id}", "--json")],
)
def test_list_and_get_mask_url_credentials(
    fake_thread: FakeLettr, invoke: Invoke, args: tuple[str, ...]
) -> None:
    webhook_id = fake_thread.add_webhook(name="creds", url=CRED_URL)["id"]
    result = invoke(*(arg.format(id=webhook_id) for arg in args))
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
    assert "hookuser" not in result.output
    assert MASKED_URL in result.output


@pytest.mark.parametrize("as_json", [False, True])
def test_bulk_preview_masks_url_credentials(
    fake_thread: FakeLettr, invoke: Invoke, as_json: bool
) -> None:
    fake_thread.add_webhook(name="creds", url=CRED_URL)
    new_url = "https://other:s3cr3t@new.example.com/h"
    flags = ["--json"] if as_json else []
    result = invoke("bulk-update", "--match-name", "creds", "--url", new_url, "--dry-run", *flags)
    assert result.exit_code == 0, result.output
    for secret in ("hunter2", "s3cr3t", "hookuser", "other:"):
        assert secret not in result.output
    assert "https://***@new.example.com/h" in result.output
    assert writes(fake_thread) == []


# -- terminal control sequences -----------------------------------------------------


@pytest.mark.parametrize("command", ["list", "get", "bulk-delete"])
def test_tables_escape_control_and_bidi_characters(
    fake_thread: FakeLettr, invoke: Invoke, command: str
) -> None:
    webhook_id = hostile(fake_thread)
    args = {
        "list": ["list"],
        "get": ["get", webhook_id],
        "bulk-delete": ["bulk-delete", webhook_id, "--dry-run"],
    }[command]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert_no_raw_controls(result.output)
    assert "\\x1b]0;pwned\\x07evil\\u202eexe.txt\\x9b31m" in result.output


def test_json_output_escapes_controls_and_round_trips(
    fake_thread: FakeLettr, invoke: Invoke
) -> None:
    hostile(fake_thread)
    result = invoke("list", "--json")
    assert_no_raw_controls(result.stdout)
    assert parse(result)[0]["name"] == HOSTILE_NAME  # a JSON reader gets the exact value


def test_bulk_failures_escape_server_messages(fake_thread: FakeLettr, invoke: Invoke) -> None:
    from lettr_async.testing import Fault

    webhook_id = hostile(fake_thread)
    fake_thread.inject(
        Fault.status(500, json={"message": "boom\x1b[2J\u202e", "error_code": "x"}),
        method="DELETE",
    )
    result = invoke("bulk-delete", webhook_id, "--yes")
    assert result.exit_code == 1
    assert_no_raw_controls(result.output)
    assert "boom\\x1b[2J\\u202e" in result.output


# -- --json error documents -----------------------------------------------------------


def error_of(result: Any, exit_code: int) -> dict[str, Any]:
    assert result.exit_code == exit_code, result.output
    assert result.stderr == ""  # the document is the only output
    doc = json.loads(result.stdout)
    assert set(doc) == {"error"}
    assert doc["error"]["exit_code"] == exit_code
    error: dict[str, Any] = doc["error"]
    return error


def test_json_api_error(invoke: Invoke) -> None:
    error = error_of(invoke("get", "webhook-missing", "--json"), 3)
    assert error["type"] == "NotFoundError"
    assert error["status_code"] == 404
    assert error["error_code"] == "not_found"
    assert error["message"].startswith("API error 404 not_found")


def test_json_global_flag_error(invoke: Invoke) -> None:
    error = error_of(invoke("--json", "get", "webhook-missing"), 3)
    assert error["type"] == "NotFoundError"


def test_json_local_validation_error(fake_thread: FakeLettr, invoke: Invoke) -> None:
    error = error_of(invoke("create", "--url", "https://a.example.com/h", "--json"), 2)
    assert error["type"] == "ValidationError"
    assert error["status_code"] is None
    assert error["fields"] == {"name": ["is required."]}
    assert fake_thread.requests == []


def test_json_unknown_event_in_bulk_update(fake_thread: FakeLettr, invoke: Invoke) -> None:
    result = invoke("bulk-update", "--match-name", "*", "--event", "nope", "--json")
    error = error_of(result, 2)
    assert error["fields"] == {"events.0": ["unknown event type 'nope'."]}
    assert fake_thread.requests == []


def test_json_usage_error(invoke: Invoke) -> None:
    error = error_of(invoke("get", "--json"), 2)
    assert error["type"] == "UsageError"
    assert "ID" in error["message"]


def test_json_network_error(invoke: Invoke, closed_port: int) -> None:
    result = invoke("list", "--json", env={"LETTR_BASE_URL": f"http://127.0.0.1:{closed_port}"})
    error = error_of(result, 4)
    assert error["type"] == "APIConnectionError"


@pytest.mark.usefixtures("terminal")
def test_json_aborted_confirmation(fake_thread: FakeLettr, invoke: Invoke) -> None:
    webhook_id = fake_thread.add_webhook(name="keep", url="https://k.example.com/")["id"]
    result = invoke("delete", webhook_id, "--json", input="n\n")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "error": {"message": "aborted", "exit_code": 1, "type": "Aborted"}
    }
    assert webhook_id in fake_thread.webhooks


def test_json_error_never_shows_the_api_key(invoke: Invoke) -> None:
    result = invoke("--api-key", "lttr_wrong_key_value", "list", "--json")
    error = error_of(result, 3)
    assert error["type"] == "AuthenticationError"
    assert "lttr_wrong_key_value" not in result.output


def test_text_errors_stay_on_stderr_without_json(invoke: Invoke) -> None:
    result = invoke("get", "webhook-missing")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.startswith("error: API error 404")


# -- one client per bulk command (issue 11) ------------------------------------------


def test_bulk_commands_use_one_client(
    fake_thread: FakeLettr, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[AsyncLettr] = []

    class CountingLettr(AsyncLettr):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            created.append(self)

    monkeypatch.setattr(cli_context, "AsyncLettr", CountingLettr)
    for index in range(3):
        fake_thread.add_webhook(name=f"one-{index}", url=f"https://one.example.com/{index}")
    result = invoke("bulk-update", "--match-name", "one-*", "--disable", "--yes")
    assert result.exit_code == 0, result.output
    assert len(created) == 1
    result = invoke("bulk-delete", "--match-name", "one-*", "--yes")
    assert result.exit_code == 0, result.output
    assert len(created) == 2
    assert fake_thread.webhooks == {}
