"""Hooks cost only what is listened to (issue 23): records of other events are not built."""

from __future__ import annotations

import dis
from typing import Any

import attrs
import pytest

from lettr_async import hooks as hooks_module
from lettr_async.hooks import CallEnd, Hooks, Response, capture_response

from .test_hooks import drive_retried_call


def _count(monkeypatch: pytest.MonkeyPatch, name: str) -> list[object]:
    built: list[object] = []
    real = getattr(hooks_module, name)

    def counting(*args: Any) -> object:
        record = real(*args)
        built.append(record)
        return record

    monkeypatch.setattr(hooks_module, name, counting)
    return built


def test_an_on_response_hook_alone_builds_no_call_end(monkeypatch: pytest.MonkeyPatch) -> None:
    ends = _count(monkeypatch, "CallEnd")
    responses: list[Response] = []
    drive_retried_call(Hooks(on_response=responses.append))
    assert [r.status_code for r in responses] == [503, 200]
    assert ends == []


def test_an_on_call_end_hook_alone_builds_no_response_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    responses = _count(monkeypatch, "Response")
    ends: list[CallEnd] = []
    drive_retried_call(Hooks(on_call_end=ends.append))
    assert responses == []
    (end,) = ends
    # What end() needs of the last attempt is still carried over.
    assert (end.status_code, end.request_id, end.attempts) == (200, "req-2", 2)
    assert end.headers["X-RateLimit-Limit"] == "3"


def test_capture_response_still_gets_the_call_end_without_hooks() -> None:
    with capture_response() as captured:
        drive_retried_call(Hooks())
    assert (captured.status_code, captured.request_id) == (200, "req-2")


def test_the_base_url_is_parsed_once_per_url() -> None:
    hooks_module._server.cache_clear()
    hooks_module._route.cache_clear()
    hooks = Hooks(on_request=lambda _: None)
    for path in ("/webhooks/a", "/webhooks/a", "/webhooks/b", "/webhooks"):
        hooks.start_call("GET", path, "https://example.com:8443/api")
    info = hooks_module._server.cache_info()
    assert (info.misses, info.hits) == (1, 2)
    # A route seen before (method, path and base URL) is not even templated again.
    assert hooks_module._route.cache_info().hits == 1
    tracker = hooks.start_call("GET", "/webhooks/b", "http://127.0.0.1/api")
    assert (tracker.call.server_address, tracker.call.server_port) == ("127.0.0.1", None)


@pytest.mark.parametrize(
    "record", [hooks_module.CallInfo, hooks_module.Request, Response, CallEnd], ids=str
)
def test_records_are_built_without_a_call_per_field(record: type) -> None:
    """Pins the ~6 k a hooked call saved (issue 23): a frozen *slotted* attrs class
    sets each field through ``object.__setattr__``; the frozen dict class stores into
    its ``__dict__`` (one call left: attrs' unused setattr lookup). Still frozen."""
    init = vars(record)["__init__"]
    assert sum(op.opname.startswith("CALL") for op in dis.get_instructions(init)) <= 1
    info = hooks_module.CallInfo(1, "GET", "/webhooks/{id}", "example.com", None, "https")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        info.call_id = 2  # type: ignore[misc]
