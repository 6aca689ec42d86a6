"""Every subcommand, driven in-process with CliRunner against a threaded FakeLettr."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from lettr_async.cli._app import cli
from lettr_async.testing import FakeLettr, Fault
from tests.helpers import API_KEY, writes

from ._helpers import Invoke, parse

PASSWORD = "pa55-w0rd-never-shown"
CLIENT_SECRET = "oauth-secret-never-shown"


def seed(fake: FakeLettr) -> list[str]:
    """Three webhooks: two on staging.example.com, one on prod."""
    return [
        fake.add_webhook(name="stage-a", url="https://staging.example.com/a")["id"],
        fake.add_webhook(
            name="stage-b", url="https://staging.example.com/b", events=["message.delivery"]
        )["id"],
        fake.add_webhook(name="prod", url="https://prod.example.com/hook")["id"],
    ]


# -- list / get ---------------------------------------------------------------------


def test_list_table_and_json(fake_thread: FakeLettr, invoke: Invoke) -> None:
    ids = seed(fake_thread)
    fake_thread.webhooks[ids[0]]["last_successful_at"] = "2024-01-15T10:30:00+00:00"
    fake_thread.webhooks[ids[0]]["last_status"] = "success"

    table = invoke("list")
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "NAME", "URL"]
    assert all(any(i in line for line in lines) for i in ids)

    docs = parse(invoke("list", "--json"))
    assert [d["id"] for d in docs] == ids
    assert docs[0]["last_successful_at"] == "2024-01-15T10:30:00+00:00"
    assert docs[0]["last_status"] == "success"
    assert docs[1]["event_types"] == ["message.delivery"]
    assert docs[2]["event_types"] is None


def test_global_json_flag_and_empty_list(invoke: Invoke) -> None:
    assert invoke("list").stdout.strip() == "No webhooks."
    assert parse(invoke("--json", "list")) == []


def test_get(fake_thread: FakeLettr, invoke: Invoke) -> None:
    ids = seed(fake_thread)
    text = invoke("get", ids[1])
    assert text.exit_code == 0
    assert "stage-b" in text.stdout
    assert "message.delivery" in text.stdout
    doc = parse(invoke("get", ids[1], "--json"))
    assert doc["id"] == ids[1]
    assert doc["enabled"] is True


def test_get_missing_is_api_error(invoke: Invoke) -> None:
    result = invoke("get", "webhook-missing")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.startswith("error: API error 404 not_found")
    assert len(result.stderr.strip().splitlines()) == 1


# -- create -------------------------------------------------------------------------


def test_create_all_events_by_default(fake_thread: FakeLettr, invoke: Invoke) -> None:
    doc = parse(invoke("create", "--name", "A", "--url", "https://a.example.com/h", "--json"))
    assert doc["event_types"] is None
    assert doc["auth_type"] == "none"
    post = next(r for r in fake_thread.requests if r.method == "POST")
    assert post.json["events_mode"] == "all"
    assert "events" not in post.json


def test_create_selected_events_normalised(fake_thread: FakeLettr, invoke: Invoke) -> None:
    result = invoke(
        "create",
        "--name", "B",
        "--url", "https://b.example.com/h",
        "--event", "delivery",
        "--event", "engagament.click,message.bounce",
        "--json",
    )  # fmt: skip
    doc = parse(result)
    assert doc["event_types"] == ["message.delivery", "engagement.click", "message.bounce"]
    post = next(r for r in fake_thread.requests if r.method == "POST")
    assert post.json["events_mode"] == "selected"


def test_create_basic_auth_never_echoes_password(fake_thread: FakeLettr, invoke: Invoke) -> None:
    result = invoke(
        "create",
        "--name", "Basic",
        "--url", "https://basic.example.com/h",
        "--auth-type", "basic",
        "--auth-username", "lettr",
        "--auth-password", PASSWORD,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "credentials stored" in result.stdout
    assert PASSWORD not in result.output
    (webhook_id,) = fake_thread.webhooks
    assert fake_thread.credentials(webhook_id)["auth_password"] == PASSWORD


def test_create_oauth2_secret_from_env(fake_thread: FakeLettr, invoke: Invoke) -> None:
    result = invoke(
        "create",
        "--name", "OAuth",
        "--url", "https://oauth.example.com/h",
        "--auth-type", "oauth2",
        "--oauth-client-id", "client",
        "--oauth-token-url", "https://auth.example.com/token",
        "--json",
        env={"LETTR_OAUTH_CLIENT_SECRET": CLIENT_SECRET},
    )  # fmt: skip
    doc = parse(result)
    assert doc["auth_type"] == "oauth2"
    assert doc["has_auth_credentials"] is True
    assert fake_thread.credentials(doc["id"])["oauth_client_secret"] == CLIENT_SECRET
    assert CLIENT_SECRET not in result.output


def test_create_local_validation_error_sends_nothing(
    fake_thread: FakeLettr, invoke: Invoke
) -> None:
    result = invoke("create", "--url", "https://a.example.com/h")
    assert result.exit_code == 2
    assert result.stderr == "error: invalid arguments: name: is required.\n"
    assert fake_thread.requests == []


def test_create_basic_without_password_names_the_field(
    fake_thread: FakeLettr, invoke: Invoke
) -> None:
    result = invoke(
        "create", "--name", "x", "--url", "https://x.example.com", "--auth-type", "basic",
        "--auth-username", "u",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--auth-password is required: pass it, set $LETTR_AUTH_PASSWORD" in result.stderr
    assert fake_thread.requests == []


def test_create_conflict_is_api_error(fake_thread: FakeLettr, invoke: Invoke) -> None:
    seed(fake_thread)
    result = invoke("create", "--name", "dup", "--url", "https://prod.example.com/hook")
    assert result.exit_code == 3
    assert "409 resource_already_exists" in result.stderr


def test_server_side_422_is_api_error(fake_thread: FakeLettr, invoke: Invoke) -> None:
    fake_thread.inject(
        Fault.status(
            422,
            json={
                "message": "The given data was invalid.",
                "error_code": "validation_error",
                "errors": {"url": ["The url is not reachable."]},
            },
        ),
        method="POST",
    )
    result = invoke("create", "--name", "x", "--url", "https://x.example.com")
    assert result.exit_code == 3
    assert result.stderr == (
        "error: 422 validation_error: The given data was invalid.: url: The url is not reachable.\n"
    )


# -- update / delete ----------------------------------------------------------------


def test_update_rename_and_disable(fake_thread: FakeLettr, invoke: Invoke) -> None:
    ids = seed(fake_thread)
    doc = parse(invoke("update", ids[0], "--name", "renamed", "--disable", "--json"))
    assert doc["name"] == "renamed"
    assert doc["enabled"] is False
    put = next(r for r in fake_thread.requests if r.method == "PUT")
    assert put.json == {"name": "renamed", "active": False}
    text = invoke("update", ids[0], "--enable", "--event", "bounce")
    assert text.exit_code == 0
    assert fake_thread.webhooks[ids[0]]["enabled"] is True
    assert fake_thread.webhooks[ids[0]]["event_types"] == ["message.bounce"]


def test_update_nothing_is_usage_error(fake_thread: FakeLettr, invoke: Invoke) -> None:
    ids = seed(fake_thread)
    result = invoke("update", ids[0])
    assert result.exit_code == 2
    assert "nothing to update" in result.stderr
    assert writes(fake_thread) == []


def test_update_password_never_echoed_even_on_error(fake_thread: FakeLettr, invoke: Invoke) -> None:
    result = invoke("update", "webhook-missing", "--auth-password", PASSWORD)
    assert result.exit_code == 3
    assert PASSWORD not in result.output


def test_delete_with_yes(fake_thread: FakeLettr, invoke: Invoke) -> None:
    ids = seed(fake_thread)
    assert parse(invoke("delete", ids[0], "--yes", "--json")) == {"deleted": ids[0]}
    assert ids[0] not in fake_thread.webhooks


@pytest.mark.usefixtures("terminal")
def test_delete_confirmation(fake_thread: FakeLettr, invoke: Invoke) -> None:
    ids = seed(fake_thread)
    refused = invoke("delete", ids[0], input="n\n")
    assert refused.exit_code == 1
    assert ids[0] in fake_thread.webhooks
    assert writes(fake_thread) == []
    accepted = invoke("delete", ids[0], input="y\n")
    assert accepted.exit_code == 0
    assert f"Deleted webhook {ids[0]}." in accepted.stdout
    assert ids[0] not in fake_thread.webhooks


def test_delete_missing(invoke: Invoke) -> None:
    assert invoke("delete", "webhook-missing", "--yes").exit_code == 3


@pytest.mark.parametrize(
    "args",
    [("delete", "ID"), ("bulk-update", "--match-url", "*", "--disable"), ("bulk-delete", "ID")],
)
def test_a_question_nobody_can_answer_is_refused_before_any_request(
    fake_thread: FakeLettr, invoke: Invoke, args: tuple[str, ...]
) -> None:
    ids = seed(fake_thread)
    before = len(fake_thread.requests)
    result = invoke(*(ids[0] if arg == "ID" else arg for arg in args))
    assert result.exit_code == 2, result.output
    assert "stdin is not a terminal: pass --yes" in result.stderr
    assert "Aborted" not in result.output
    assert len(fake_thread.requests) == before  # not even the list call


# -- bulk ---------------------------------------------------------------------------


def test_bulk_update_by_url_glob(fake_thread: FakeLettr, invoke: Invoke) -> None:
    ids = seed(fake_thread)
    doc = parse(
        invoke("bulk-update", "--match-url", "https://staging.*", "--disable", "--yes", "--json")
    )
    assert doc["total"] == 2
    assert doc["succeeded"] == 2
    assert doc["failed"] == 0
    assert [o["key"] for o in doc["outcomes"]] == ids[:2]
    assert all(o["ok"] and o["error"] is None for o in doc["outcomes"])
    assert [fake_thread.webhooks[i]["enabled"] for i in ids] == [False, False, True]


def test_bulk_update_by_name_glob_and_ids(fake_thread: FakeLettr, invoke: Invoke) -> None:
    ids = seed(fake_thread)
    result = invoke("bulk-update", ids[2], "--match-name", "*-b", "--name", "same", "--yes")
    assert result.exit_code == 0
    assert "Updated 2 of 2 webhooks." in result.stdout
    assert [fake_thread.webhooks[i]["name"] for i in ids] == ["stage-a", "same", "same"]


@pytest.mark.usefixtures("terminal")
def test_bulk_update_confirmation_refused(fake_thread: FakeLettr, invoke: Invoke) -> None:
    seed(fake_thread)
    result = invoke("bulk-update", "--match-url", "*", "--disable", input="n\n")
    assert result.exit_code == 1
    assert writes(fake_thread) == []


def test_bulk_update_dry_run_changes_nothing(fake_thread: FakeLettr, invoke: Invoke) -> None:
    seed(fake_thread)
    before = json.loads(json.dumps(fake_thread.webhooks))
    result = invoke(
        "bulk-update", "--match-url", "https://staging.*", "--disable", "--name", "x",
        "--auth-password", PASSWORD, "--dry-run", "--json",
    )  # fmt: skip
    doc = parse(result)
    assert doc["dry_run"] is True
    assert [step["name"] for step in doc["preview"]] == ["stage-a", "stage-b"]
    changes = doc["preview"][0]["changes"]
    assert changes["active"] == {"from": True, "to": False}
    assert changes["name"] == {"from": "stage-a", "to": "x"}
    assert changes["auth_password"]["to"] == "***"
    assert PASSWORD not in result.output
    assert fake_thread.webhooks == before
    assert writes(fake_thread) == []
    assert {r.method for r in fake_thread.requests} == {"GET"}

    text = invoke("bulk-update", "--match-name", "stage-*", "--disable", "--dry-run")
    assert text.exit_code == 0
    assert "Dry run: would update 2 webhook(s)" in text.stdout
    assert "active: yes -> no" in text.stdout
    assert writes(fake_thread) == []


def test_bulk_update_invalid_fields_is_usage_error(fake_thread: FakeLettr, invoke: Invoke) -> None:
    seed(fake_thread)
    result = invoke("bulk-update", "--match-url", "*", "--url", "not a url", "--yes")
    assert result.exit_code == 2
    assert result.stderr == "error: invalid arguments: url: must be an absolute http(s) URL.\n"
    assert fake_thread.requests == []  # rejected before the listing: nothing was sent


def test_bulk_update_partial_failure_exits_1(fake_thread: FakeLettr, invoke: Invoke) -> None:
    ids = seed(fake_thread)
    fake_thread.inject(Fault.status(500), method="PUT", path=f"/webhooks/{ids[1]}")
    result = invoke("bulk-update", *ids, "--disable", "--yes", "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert (doc["total"], doc["succeeded"], doc["failed"]) == (3, 2, 1)
    failed = [o for o in doc["outcomes"] if not o["ok"]]
    assert failed[0]["key"] == ids[1]
    assert failed[0]["error"].startswith("500")


def test_bulk_selection_errors(fake_thread: FakeLettr, invoke: Invoke) -> None:
    seed(fake_thread)
    nothing = invoke("bulk-delete", "--yes")
    assert nothing.exit_code == 2
    unknown = invoke("bulk-delete", "webhook-nope", "--yes")
    assert unknown.exit_code == 3
    assert "no webhook with id: webhook-nope" in unknown.stderr
    assert writes(fake_thread) == []


def test_bulk_delete(fake_thread: FakeLettr, invoke: Invoke) -> None:
    ids = seed(fake_thread)
    dry = parse(invoke("bulk-delete", "--match-name", "stage-*", "--dry-run", "--json"))
    assert dry == {
        "dry_run": True,
        "preview": [
            {"action": "delete", "id": ids[0], "name": "stage-a", "url": "https://staging.example.com/a"},
            {"action": "delete", "id": ids[1], "name": "stage-b", "url": "https://staging.example.com/b"},
        ],
    }  # fmt: skip
    assert writes(fake_thread) == []
    doc = parse(invoke("bulk-delete", "--match-name", "stage-*", "--yes", "--json"))
    assert (doc["total"], doc["succeeded"], doc["failed"]) == (2, 2, 0)
    assert list(fake_thread.webhooks) == [ids[2]]


# -- errors, exit codes, secrets, help ---------------------------------------------


def test_usage_error_exit_2(invoke: Invoke) -> None:
    result = invoke("list", "--no-such-option")
    assert result.exit_code == 2
    assert "No such option" in result.stderr


def test_missing_api_key_exit_2(fake_thread: FakeLettr) -> None:
    result = CliRunner().invoke(
        cli, ["list"], env={"LETTR_API_KEY": None, "LETTR_BASE_URL": fake_thread.base_url}
    )
    assert result.exit_code == 2
    assert result.stderr == "error: no Lettr API key: pass --api-key or set LETTR_API_KEY\n"
    assert fake_thread.requests == []


def test_wrong_api_key_exit_3_and_never_echoed(fake_thread: FakeLettr, invoke: Invoke) -> None:
    secret_key = "lttr_wrong_key_1234567890"
    result = invoke("--api-key", secret_key, "list")
    assert result.exit_code == 3
    assert "401" in result.stderr
    assert secret_key not in result.output
    assert API_KEY not in result.output


def test_network_error_exit_4(closed_port: int) -> None:
    result = CliRunner().invoke(
        cli,
        ["--base-url", f"http://127.0.0.1:{closed_port}/api", "--max-retries", "0", "list"],
        env={"LETTR_API_KEY": API_KEY},
        catch_exceptions=False,
    )
    assert result.exit_code == 4
    assert result.stderr.startswith("error: network error:")
    assert API_KEY not in result.output


def test_timeout_is_network_error(fake_thread: FakeLettr, invoke: Invoke) -> None:
    fake_thread.inject(Fault.hang(5), method="GET")
    result = invoke("--timeout", "0.2", "list")
    assert result.exit_code == 4


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["list"],
        ["get"],
        ["create"],
        ["update"],
        ["delete"],
        ["bulk-update"],
        ["bulk-delete"],
        ["demo"],
    ],
)
def test_help_everywhere(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
    if command != ["demo"]:
        assert "Exit codes:" in result.stdout


def test_create_help_names_every_field() -> None:
    text = CliRunner().invoke(cli, ["create", "--help"]).stdout
    for option in (
        "--name", "--url", "--auth-type", "--events-mode", "--auth-username", "--auth-password",
        "--oauth-client-id", "--oauth-client-secret", "--oauth-token-url", "--event",
    ):  # fmt: skip
        assert option in text


def test_demo_command() -> None:
    result = CliRunner().invoke(cli, ["demo"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "Done. The fake server received" in result.stdout
