"""The hooks dispatcher, driven the way the request pipeline drives it."""

from __future__ import annotations

import asyncio
import logging

import pytest

from lettr_async import hooks as hooks_module
from lettr_async.errors import APITimeoutError, error_for_status
from lettr_async.hooks import (
    CallEnd,
    Hooks,
    RateLimitWait,
    Request,
    Response,
    Retry,
    capture_response,
    path_template,
)
from tests.helpers import recording_hooks

BASE = "https://app.lettr.com/api"
SECRET_KEY = "lttr_secret_key_never_logged"


def drive_retried_call(hooks: Hooks) -> None:
    """A GET that is rate-limited locally, gets a 503, is retried and succeeds."""
    tracker = hooks.start_call("get", "/webhooks/webhook-abc", BASE)
    tracker.rate_limit_wait(1, 0.25, "interactive")
    tracker.request(1)
    failure = error_for_status(
        503,
        {"message": "down", "error_code": "service_unavailable"},
        {"X-Request-Id": "req-1"},
    )
    tracker.response(1, error=failure)
    tracker.retry(1, 0.5, failure)
    tracker.request(2)
    tracker.response(
        2, status_code=200, headers={"X-Request-Id": "req-2", "X-RateLimit-Limit": "3"}
    )
    tracker.end()


def test_records_of_a_retried_call_in_order() -> None:
    hooks, seen = recording_hooks()
    drive_retried_call(hooks)
    assert [type(r) for r in seen] == [
        RateLimitWait,
        Request,
        Response,
        Retry,
        Request,
        Response,
        CallEnd,
    ]
    call = seen[0].call
    assert all(r.call is call for r in seen)
    assert (call.method, call.path_template, call.server_address, call.server_port) == (
        "GET",
        "/webhooks/{id}",
        "app.lettr.com",
        None,
    )
    failed, ok = seen[2], seen[5]
    assert (failed.status_code, failed.error_type, failed.error_code, failed.request_id) == (
        503,
        "503",
        "service_unavailable",
        "req-1",
    )
    assert (ok.status_code, ok.error_type, ok.request_id, ok.attempt) == (200, None, "req-2", 2)
    assert seen[3] == Retry(call, 1, 0.5, "503")
    end = seen[6]
    assert (end.attempts, end.status_code, end.error_type, end.request_id) == (
        2,
        200,
        None,
        "req-2",
    )
    assert end.headers["X-RateLimit-Limit"] == "3"
    assert end.duration >= ok.duration >= 0


def test_a_transport_failure_is_typed_by_class_name() -> None:
    hooks, seen = recording_hooks()
    tracker = hooks.start_call("POST", "/webhooks", "http://127.0.0.1:8080/api")
    tracker.request(1)
    error = APITimeoutError("POST /webhooks timed out after 1.0s")
    tracker.response(1, error=error)
    tracker.end(error)
    response, end = seen[1], seen[2]
    assert (response.status_code, response.error_type, dict(response.headers)) == (
        None,
        "APITimeoutError",
        {},
    )
    assert (end.status_code, end.error_type, end.attempts) == (None, "APITimeoutError", 1)
    assert (end.call.server_address, end.call.server_port, end.call.path_template) == (
        "127.0.0.1",
        8080,
        "/webhooks",
    )


def test_records_are_immutable_and_hold_no_secret() -> None:
    hooks, seen = recording_hooks()
    drive_retried_call(hooks)
    with pytest.raises(AttributeError):
        seen[-1].status_code = 500
    assert all(SECRET_KEY not in repr(r) for r in seen)
    assert "Authorization" not in seen[-1].headers


def test_a_raising_hook_never_breaks_the_call_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[Request] = []

    def broken(record: Request) -> None:
        calls.append(record)
        raise RuntimeError("hook bug")

    after: list[Request] = []
    hooks = Hooks(on_request=[broken, after.append])
    with caplog.at_level(logging.ERROR, logger="lettr_async.hooks"):
        for _ in range(3):
            tracker = hooks.start_call("GET", "/webhooks", BASE)
            tracker.request(1)
            tracker.end()
    assert len(calls) == 3
    assert len(after) == 3  # the next hook still ran every time
    logged = [r for r in caplog.records if r.name == "lettr_async.hooks"]
    assert len(logged) == 1
    assert "on_request" in logged[0].getMessage()


def test_base_exceptions_are_not_swallowed() -> None:
    def interrupt(record: Request) -> None:
        raise KeyboardInterrupt

    tracker = Hooks(on_request=interrupt).start_call("GET", "/webhooks", BASE)
    with pytest.raises(KeyboardInterrupt):
        tracker.request(1)


def test_non_callables_are_rejected_up_front() -> None:
    with pytest.raises(TypeError, match="on_retry"):
        Hooks(on_retry=["not callable"])  # type: ignore[list-item]


def test_adding_hooks_runs_both_in_order() -> None:
    order: list[str] = []
    first = Hooks(on_call_end=lambda r: order.append("first"))
    second = Hooks(on_call_end=lambda r: order.append("second"))
    (first + second).start_call("GET", "/webhooks", BASE).end()
    assert order == ["first", "second"]
    assert "on_call_end=2" in repr(first + second)


def test_a_tracker_with_nothing_listening_builds_no_record(monkeypatch: pytest.MonkeyPatch) -> None:
    # (The pipeline makes no tracker at all then: tests/test_hot_path.py.)
    built: list[str] = []
    for name in ("Request", "Response", "Retry", "RateLimitWait", "CallEnd"):
        monkeypatch.setattr(hooks_module, name, lambda *a, _n=name, **k: built.append(_n))
    empty = Hooks()
    assert not empty.active
    tracker = empty.start_call("GET", "/webhooks", BASE)
    tracker.rate_limit_wait(1, 0.5, "write")
    tracker.request(1)
    tracker.response(1, status_code=200, headers={})
    tracker.retry(1, 0.1, RuntimeError("x"))
    tracker.end()
    assert built == []


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/webhooks", "/webhooks"),
        ("/webhooks/webhook-abc", "/webhooks/{id}"),
        ("/webhooks/a%2Fb", "/webhooks/{id}"),
        ("/webhooks/abc?x=1", "/webhooks/{id}"),
    ],
)
def test_path_templates_carry_no_ids(path: str, template: str) -> None:
    assert path_template(path) == template


def test_capture_response_sees_its_own_calls_only() -> None:
    hooks = Hooks()

    async def call(request_id: str) -> str | None:
        with capture_response() as captured:
            tracker = hooks.start_call("GET", "/webhooks", BASE)
            tracker.request(1)
            await asyncio.sleep(0)  # let the other task interleave
            tracker.response(1, status_code=200, headers={"X-Request-Id": request_id})
            tracker.end()
        assert captured.status_code == 200
        assert len(captured.calls) == 1
        return captured.request_id

    async def main() -> list[str | None]:
        return list(await asyncio.gather(call("req-a"), call("req-b")))

    assert asyncio.run(main()) == ["req-a", "req-b"]


def test_capture_response_reports_the_failure_of_the_last_call() -> None:
    hooks = Hooks()
    with capture_response() as captured:
        assert (captured.last, captured.request_id, len(captured.calls)) == (None, None, 0)
        tracker = hooks.start_call("GET", "/webhooks/x", BASE)
        tracker.request(1)
        error = error_for_status(
            404,
            {"message": "Webhook not found.", "error_code": "not_found"},
            {"X-Request-Id": "req-404"},
        )
        tracker.response(1, error=error)
        tracker.end(error)
    assert (captured.status_code, captured.request_id) == (404, "req-404")
    assert captured.last is not None
    assert captured.last.error_code == "not_found"
