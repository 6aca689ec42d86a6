"""``lettr-webhooks trigger`` and ``events`` against real receivers on 127.0.0.1.

The end-to-end claims run the command as users do, in a subprocess (four
runs, several checks each): the project's Django view under a live WSGI
server (basic auth, every event type parsed, 500 then 200 retried on Lettr's
scaled schedule, ``--repeat`` de-duplicated; and the signature), and the
aiohttp handler (OAuth 2 bearer through a local token endpoint; ``410``
stopping the retries). Everything else (options, output, masking, escaping)
runs in-process through click's ``CliRunner``, with the receivers on the
test's event loop and the command in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from lettr_async.cli._app import cli
from lettr_async.events import BounceEvent, ClickEvent, OpenEvent, RelayEvent
from lettr_async.testing import DEFAULT_RETRY_SCHEDULE, MAX_ANSWER_BYTES, make_event
from lettr_async.types import EVENT_TYPES
from tests import live_django
from tests.events.django_app import settings as django_settings
from tests.events.django_app import urls as django_urls
from tests.rawserver import Seen, raw_server, response
from tests.test_delivery import (
    CLIENT_ID,
    CLIENT_SECRET,
    PASSWORD,
    SIGNING_SECRET,
    TOKEN,
    USER,
    Receiver,
)

TIMEOUT = 120
SCALE = 1e-6
SECRETS = (
    PASSWORD,
    CLIENT_SECRET,
    TOKEN,
    SIGNING_SECRET,
    django_settings.PASSWORD,
    django_settings.SIGNING_SECRET,
)
_SECRET_ENV = (
    "LETTR_AUTH_USERNAME",
    "LETTR_AUTH_PASSWORD",
    "LETTR_OAUTH_CLIENT_ID",
    "LETTR_OAUTH_CLIENT_SECRET",
    "LETTR_SIGNING_SECRET",
)


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def child_env(**extra: str) -> dict[str, str]:
    """The current environment minus LETTR_* variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LETTR_")}
    env.update(extra)
    return env


def run_trigger(*args: str, env: Mapping[str, str] | None = None) -> Result:
    """``lettr-webhooks trigger ARGS`` in-process; delivery secrets only from ``env``."""
    full_env: dict[str, str | None] = dict.fromkeys(_SECRET_ENV)
    full_env.update(env or {})
    return CliRunner().invoke(cli, ["trigger", *args], env=full_env, catch_exceptions=False)


async def trigger_in_thread(*args: str, env: Mapping[str, str] | None = None) -> Result:
    """``run_trigger`` off the event loop, so receivers on the loop can answer."""
    return await asyncio.to_thread(run_trigger, *args, env=env)


async def trigger_process(*args: str, **env: str) -> tuple[int, str, str]:
    """``python -m lettr_async trigger ARGS`` as a child process; (status, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lettr_async",
        "trigger",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=child_env(**env),
    )
    out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def statuses(delivery: Mapping[str, Any]) -> list[int | None]:
    return [attempt["status"] for attempt in delivery["attempts"]]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as server:
        yield server


@pytest.fixture
def django_server() -> Iterator[str]:
    with live_django.django_live_server() as base_url:
        yield base_url


# ------------------------------------------------------- subprocess, end to end


def test_django_view_gets_every_type_retried_and_deduplicated(django_server: str) -> None:
    """Basic auth; `all` in batches of 8; the view fails twice; `--repeat` resends."""
    django_urls.recorder.failures = 2  # the view answers 500 twice, then 200
    result = subprocess.run(
        [sys.executable, "-m", "lettr_async", "trigger", "all", "--batch", "8", "--repeat",
         "--to", f"{django_server}/hooks/basic/", "--auth-type", "basic",
         "--time-scale", str(SCALE), "--json"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=child_env(
            LETTR_AUTH_USERNAME=django_settings.USERNAME,
            LETTR_AUTH_PASSWORD=django_settings.PASSWORD,
        ),
    )  # fmt: skip

    assert result.returncode == 0, (result.stdout, result.stderr)
    assert_no_secrets(result.stdout, result.stderr)
    document = json.loads(result.stdout)
    assert (document["accepted"], document["posts"], document["posts_accepted"]) == (True, 6, 6)
    deliveries = document["deliveries"]
    assert [d["repeat"] for d in deliveries] == [0, 1] * 3
    assert [len(d["events"]) for d in deliveries] == [8, 8, 8, 8, 6, 6]
    # Lettr's schedule, scaled: the first retry at once, the next after 60 s * scale.
    first = deliveries[0]
    assert statuses(first) == [500, 500, 200]
    assert [a["delay_s"] for a in first["attempts"]] == [0.0, 0.0, 60 * SCALE]
    assert all(statuses(d) == [200] for d in deliveries[1:])
    # The repeats carried the same event ids and the view's dedup store dropped them.
    sent = [e for d in deliveries if d["repeat"] == 0 for e in d["events"]]
    assert [e["events"] for e in deliveries[1::2]] == [e["events"] for e in deliveries[::2]]
    calls = django_urls.recorder.calls
    assert len(calls) == 3
    received = [event for call in calls for event in call]
    assert [e.type for e in received] == list(EVENT_TYPES) == [e["type"] for e in sent]
    assert [e.id for e in received] == [e["event_id"] for e in sent]
    assert all(e.is_known_type and e.timestamp is not None for e in received)
    kinds = {e.type: type(e) for e in received}
    assert kinds["message.bounce"] is BounceEvent
    assert kinds["engagement.click"] is ClickEvent
    assert kinds["engagement.amp_open"] is OpenEvent
    assert kinds["relay.relay_permfail"] is RelayEvent


def test_django_view_accepts_the_signature(django_server: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lettr_async", "trigger", "bounce", "engagament.click",
         "--to", f"{django_server}/hooks/signed/"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=child_env(LETTR_SIGNING_SECRET=django_settings.SIGNING_SECRET),
    )  # fmt: skip

    assert result.returncode == 0, (result.stdout, result.stderr)
    assert_no_secrets(result.stdout, result.stderr)
    assert [[e.type for e in call] for call in django_urls.recorder.calls] == [
        ["message.bounce"],
        ["engagement.click"],
    ]
    lines = result.stdout.splitlines()
    assert lines[0] == f"Delivering to {django_server}/hooks/signed/"
    assert lines[1].startswith("POST 1: message.bounce (event_id ")
    assert lines[2].startswith("  attempt 1: HTTP 200 in ")
    assert lines[3] == "  -> accepted"
    assert lines[-1] == "2 of 2 POSTs accepted."


@pytest.mark.anyio
async def test_bearer_through_oauth_and_gone_stops_retries(receiver: Receiver) -> None:
    """Two processes at once: OAuth 2 against the aiohttp handler, and a 410 receiver."""
    oauth, gone = await asyncio.gather(
        trigger_process(
            "delivery", "open", "--to", receiver.url("/hooks/bearer"),
            "--auth-type", "oauth2", "--oauth-token-url", receiver.url("/oauth/token"),
            "--oauth-client-id", CLIENT_ID, "--time-scale", str(SCALE),
            LETTR_OAUTH_CLIENT_SECRET=CLIENT_SECRET,
        ),
        trigger_process(
            "bounce", "--to", receiver.url("/hooks/gone"), "--time-scale", "1", "--json"
        ),
    )  # fmt: skip

    code, out, err = oauth
    assert code == 0, (out, err)
    assert_no_secrets(out, err)
    assert [[e.type for e in batch] for batch in receiver.events["bearer"]] == [
        ["message.delivery"],
        ["engagement.open"],
    ]
    assert len(receiver.seen_by("token")) == 1  # fetched once, reused (expires_in 3600)
    for seen in receiver.seen_by("bearer"):
        assert seen.headers["Authorization"] == f"Bearer {TOKEN}"

    code, out, err = gone
    assert code == 1, (out, err)
    (delivery,) = json.loads(out)["deliveries"]
    # At real time a retry would wait an hour; 410 ends the delivery at once.
    assert (statuses(delivery), delivery["gone"], delivery["accepted"]) == ([410], True, False)
    assert len(receiver.seen_by("gone")) == 1


# --------------------------------------------------------------- in-process


@pytest.mark.anyio
async def test_answers_are_masked_escaped_and_truncated(receiver: Receiver) -> None:
    text = await trigger_in_thread(
        "delivery", "--to", receiver.url("/hooks/echo"), "--auth-type", "basic",
        "--auth-username", USER, "--auth-password", PASSWORD, "--no-retry",
    )  # fmt: skip
    as_json = await trigger_in_thread(
        "delivery", "--to", receiver.url("/hooks/echo"), "--auth-type", "oauth2",
        "--oauth-token-url", receiver.url("/oauth/token"), "--oauth-client-id", CLIENT_ID,
        "--no-retry", "--json", env={"LETTR_OAUTH_CLIENT_SECRET": CLIENT_SECRET},
    )  # fmt: skip

    assert (text.exit_code, as_json.exit_code) == (1, 1)
    assert_no_secrets(text.stdout, text.stderr, as_json.stdout, as_json.stderr)
    (attempt_line,) = [line for line in text.stdout.splitlines() if "attempt 1" in line]
    assert "HTTP 500" in attempt_line
    assert "you said Basic ***\\x1b]0;pwned\\x07yyy" in attempt_line
    assert "\x1b" not in text.stdout
    assert attempt_line.endswith("y [truncated]")
    assert "1 attempt(s)" in text.stdout
    (attempt,) = json.loads(as_json.stdout)["deliveries"][0]["attempts"]
    assert attempt["answer"].startswith("you said Bearer ***\x1b]0;pwned\x07")
    assert attempt["answer_truncated"] is True
    # The first MAX_ANSWER_BYTES were kept, then the token masked.
    assert len(attempt["answer"].encode()) == MAX_ANSWER_BYTES - len(TOKEN) + len("***")
    assert "\\u001b" in as_json.stdout


@pytest.mark.anyio
async def test_fields_files_and_names(receiver: Receiver, tmp_path: Path) -> None:
    saved = tmp_path / "payload.json"
    captured = make_event("message.bounce", bounce_class="25")
    future = {"msys": {"ab_test_event": {"type": "ab_test_completed", "event_id": "7"}}}
    saved.write_text(json.dumps([captured, future]))

    result = await trigger_in_thread(
        "engagament.click", "relay_delivery", "--from-file", str(saved), "--batch", "4",
        "--field", "rcpt_to=Ann@Example.com", "--field", 'rcpt_meta={"plan": "pro"}',
        "--to", receiver.url("/hooks/open"), "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    (batch,) = receiver.events["open"]
    assert [e.type for e in batch] == [
        "message.bounce",
        "ab_test_event.ab_test_completed",
        "engagement.click",
        "relay.relay_delivery",
    ]
    assert isinstance(batch[0], BounceEvent)
    assert batch[0].bounce_class == "25"
    assert batch[0].id == captured["msys"]["message_event"]["event_id"]
    assert {e.raw_rcpt_to for e in batch} == {"Ann@Example.com"}
    assert {json.dumps(dict(e.metadata)) for e in batch} == {'{"plan": "pro"}'}
    (delivery,) = json.loads(result.stdout)["deliveries"]
    assert [e["type"] for e in delivery["events"]] == [e.type for e in batch]
    assert delivery["events"][1]["event_id"] == "7"


@pytest.mark.anyio
async def test_signature_is_checked_and_failures_exit_1(receiver: Receiver) -> None:
    # Credentials exported for other commands are ignored when --auth-type does not use them.
    exported = {"LETTR_AUTH_PASSWORD": PASSWORD, "LETTR_OAUTH_CLIENT_SECRET": CLIENT_SECRET}
    good = await trigger_in_thread(
        "delivery", "--to", receiver.url("/hooks/signed"), "--signing-secret", SIGNING_SECRET,
        env=exported,
    )  # fmt: skip
    bad = await trigger_in_thread(
        "delivery", "--to", receiver.url("/hooks/signed"), "--signing-secret", "not-it",
        "--time-scale", "0", "--json",
    )  # fmt: skip

    assert good.exit_code == 0, good.output
    assert bad.exit_code == 1
    assert_no_secrets(good.stdout, bad.stdout)
    (delivery,) = json.loads(bad.stdout)["deliveries"]
    assert statuses(delivery) == [401] * (len(DEFAULT_RETRY_SCHEDULE) + 1)
    assert [a["delay_s"] for a in delivery["attempts"]] == [0.0] * 8
    assert len(receiver.events["signed"]) == 1
    for seen in receiver.seen_by("signed"):
        assert seen.headers["Lettr-Signature"].startswith("t=")
        assert "Authorization" not in seen.headers


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "--to", "http://127.0.0.1:9/"], "EVENT: unknown event type 'nope'"),
        (["--to", "http://127.0.0.1:9/"], "EVENT: give event types, `all`, or --from-file"),
        (["bounce", "--to", "ftp://127.0.0.1/"], "--to: must be an absolute http://"),
        (["bounce", "--to", "http://h/", "--auth-type", "basic", "--auth-username", "u"],
         "--auth-password: required with auth_type basic"),
        (["bounce", "--to", "http://h/", "--auth-username", "u"],
         "--auth-username: needs --auth-type basic"),
        (["bounce", "--to", "http://h/", "--oauth-client-secret", "s"],
         "--oauth-client-secret: needs --auth-type oauth2"),
        (["bounce", "--to", "http://h/", "--auth-type", "oauth2", "--oauth-client-id", "c",
          "--oauth-client-secret", "s"], "--oauth-token-url: a URL is required"),
        (["bounce", "--to", "http://h/", "--field", "no-equals"], "--field: expected key=value"),
        (["bounce", "--to", "http://h/", "--field", "rcpt_meta={oops"],
         "--field: rcpt_meta's value is not valid JSON"),
        (["--from-file", "/nonexistent/x.json", "--to", "http://h/"], "--from-file: cannot read"),
        (["bounce", "--to", "http://h/", "--signing-secret", ""],
         "--signing-secret: must not be empty"),
    ],
)  # fmt: skip
def test_bad_arguments_fail_before_any_request(args: list[str], message: str) -> None:
    result = run_trigger(*args)
    assert result.exit_code == 2
    assert f"error: {message}" in result.stderr
    assert result.stdout == ""


def test_bad_payload_files(tmp_path: Path) -> None:
    cases = {
        "nested.json": "[" * 100_000,
        "shape.json": '[{"msys": {"message_event": {}}}, {"type": "delivery"}]',
        "empty.json": "[]",
        "huge.json": " " * (1024 * 1024 + 1),
    }
    expected = {
        "nested.json": "the payload is not valid JSON",
        "shape.json": "event 1: expected",
        "empty.json": "the payload holds no events",
        "huge.json": "the payload is over 1048576 bytes",
    }
    for name, content in cases.items():
        (tmp_path / name).write_text(content)
        result = run_trigger("--from-file", str(tmp_path / name), "--to", "http://h/")
        assert result.exit_code == 2, name
        assert f"error: --from-file: {expected[name]}" in result.stderr


def test_events_lists_every_type_and_prints_samples() -> None:
    runner = CliRunner()
    table = runner.invoke(cli, ["events"], catch_exceptions=False)
    listed = runner.invoke(cli, ["events", "--json"], catch_exceptions=False)
    sample = runner.invoke(cli, ["events", "--sample", "engagament.click"])
    unknown = runner.invoke(cli, ["events", "--sample", "nope"])

    assert table.exit_code == listed.exit_code == sample.exit_code == 0
    rows = json.loads(listed.stdout)
    assert [row["name"] for row in rows] == list(EVENT_TYPES)
    click_row = rows[EVENT_TYPES.index("engagement.click")]
    assert click_row["short_name"] == "click"
    assert click_row["family"] == "track_event"
    assert "link" in click_row["meaning"]
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["EVENT", "TYPE", "SHORT", "NAME"]
    assert len(lines) == 2 + len(EVENT_TYPES)
    assert lines[2].split()[:3] == ["message.injection", "injection", "message_event"]
    ((family, inner),) = _only(json.loads(sample.stdout))["msys"].items()
    assert (family, inner["type"]) == ("track_event", "click")
    assert inner["target_link_url"].startswith("https://")
    assert unknown.exit_code == 2
    assert "error: --sample: unknown event type 'nope'" in unknown.stderr


def _only(items: Sequence[Any]) -> Any:
    (item,) = items
    return item


@pytest.mark.anyio
async def test_only_the_named_urls_are_contacted(receiver: Receiver) -> None:
    # A redirect to another host is not followed, and the environment's proxy
    # settings are not used: a recording server behind each sees nothing.
    async with raw_server() as elsewhere:
        target = f"http://127.0.0.1:{elsewhere.port}/stolen"

        async def redirect(seen: Seen) -> bytes:
            return response(307, b"", headers={"Location": target})

        async with raw_server(redirect) as redirector:
            result = await trigger_in_thread(
                "delivery", "--to", f"http://127.0.0.1:{redirector.port}/hooks", "--no-retry",
                "--json",
                env={"HTTP_PROXY": target, "HTTPS_PROXY": target, "ALL_PROXY": target},
            )  # fmt: skip
            second = await trigger_in_thread(
                "delivery", "--to", receiver.url("/hooks/open"), "--no-retry",
                env={"HTTP_PROXY": target, "http_proxy": target},
            )  # fmt: skip
    assert result.exit_code == 1, result.output  # a 307 is not an acceptance
    assert statuses(json.loads(result.stdout)["deliveries"][0]) == [307]
    assert [seen.path for seen in redirector.seen] == ["/hooks"]
    assert second.exit_code == 0, second.output
    assert elsewhere.seen == []
