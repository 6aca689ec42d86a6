"""Hooks cost only what is listened to (issue 23): records of other events are not built."""

from __future__ import annotations

import dis
from collections.abc import Mapping
from typing import Any

import attrs
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from lettr_async import AsyncLettr
from lettr_async import hooks as hooks_module
from lettr_async.errors import find_request_id
from lettr_async.hooks import CallEnd, Hooks, Response, capture_response
from lettr_async.testing import FakeLettr

from .test_hooks import drive_retried_call
from .test_hot_path import _profiled_get


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
    # The tracker makes CallInfo and Response records with object.__new__ (see
    # test_the_tracker_builds_what_the_constructors_build): count those too.
    made = _count(monkeypatch, "_new_record")
    responses = _count(monkeypatch, "Response")
    ends: list[CallEnd] = []
    drive_retried_call(Hooks(on_call_end=ends.append))
    assert responses == []
    assert [type(record) for record in made] == [hooks_module.CallInfo]
    (end,) = ends
    # What end() needs of the last attempt is still carried over.
    assert (end.status_code, end.request_id, end.attempts) == (200, "req-2", 2)
    assert end.headers["X-RateLimit-Limit"] == "3"


def test_capture_response_still_gets_the_call_end_without_hooks() -> None:
    with capture_response() as captured:
        drive_retried_call(Hooks())
    assert (captured.status_code, captured.request_id) == (200, "req-2")


def test_the_base_url_is_parsed_once_per_url_and_routes_are_shared() -> None:
    hooks_module._server.cache_clear()
    hooks_module._path_fields.cache_clear()
    hooks_module._call_fields.cache_clear()
    hooks = Hooks(on_request=lambda _: None)
    for path in ("/webhooks/a", "/webhooks/a", "/webhooks/b", "/webhooks"):
        hooks.start_call("GET", path, "https://example.com:8443/api")
    # A path seen before (method, path and base URL) is not even templated again.
    paths = hooks_module._path_fields.cache_info()
    assert (paths.misses, paths.hits) == (3, 1)
    # A new id's path shares its route's fields: two routes, built once each.
    routes = hooks_module._call_fields.cache_info()
    assert (routes.misses, routes.hits) == (2, 1)
    info = hooks_module._server.cache_info()
    assert (info.misses, info.hits) == (1, 1)
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


@pytest.mark.anyio
async def test_one_response_hook_adds_three_calls_of_ours(fake: FakeLettr) -> None:
    """What a hooked ``get`` runs of ours, beyond an unhooked one: the tracker's
    ``start_call``, ``request`` and ``response``. No record ``__init__`` (the tracker
    fills the records' fields itself), no ``end`` (nobody reads a ``CallEnd``), no
    dispatch loop, no request-id helper."""
    hook = fake.add_webhook(name="A", url="https://example.com/a")
    seen: list[Response] = []
    async with AsyncLettr(
        "lttr_test_key",
        base_url=fake.base_url,
        rate_limit=None,
        hooks=Hooks(on_response=seen.append),
    ) as client:
        calls = await _profiled_get(client, hook["id"])
    observability = {name: n for name, n in calls.items() if name.startswith(("hooks.", "errors."))}
    assert observability == {
        "hooks.start_call": 1,
        "hooks.request": 1,
        "hooks.response": 1,
    }
    assert seen[-1].request_id is not None  # read without errors.find_request_id


def test_the_tracker_builds_what_the_constructors_build() -> None:
    """The tracker fills ``CallInfo`` and ``Response`` records' ``__dict__`` itself
    (issue 23: the constructor's type call and frame cost a fifth of a hooked call).
    Each record must equal and print as the one the public constructor
    builds from the same values, with the fields in attrs' order, and stay frozen."""
    seen: list[Response] = []
    hooks = Hooks(on_response=seen.append)
    tracker = hooks.start_call("get", "/webhooks/abc?x=1", "https://example.com:8443/api")
    tracker.request(1)
    tracker.response(1, 200, CIMultiDictProxy(CIMultiDict({"X-Request-Id": "r-1"})))
    other = hooks.start_call("get", "/webhooks/abc?x=1", "https://example.com:8443/api")
    assert other.call.call_id == tracker.call.call_id + 1  # the cached fields are copied
    assert tracker.call.method == "GET"
    assert hash(tracker.call) == hash(attrs.evolve(tracker.call))
    for record in (tracker.call, seen[0]):
        cls = type(record)
        names = [field.name for field in attrs.fields(cls)]
        assert list(vars(record)) == names
        rebuilt = cls(*(getattr(record, name) for name in names))
        assert rebuilt == record
        assert repr(rebuilt) == repr(record)
        assert attrs.evolve(record) == record
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(record, names[1], "changed")
    assert (seen[0].status_code, seen[0].request_id, seen[0].call) == (200, "r-1", tracker.call)


@pytest.mark.parametrize(
    ("headers", "request_id"),
    [
        (CIMultiDictProxy(CIMultiDict({"x-request-id": "req-lower"})), "req-lower"),
        (CIMultiDictProxy(CIMultiDict({"REQUEST-ID": "req-alt"})), "req-alt"),
        ({"X-Request-Id": "req-dict"}, "req-dict"),
        ({"Request-Id": "req-dict-alt"}, "req-dict-alt"),
        ({"X-Request-Id": ""}, None),
        ({}, None),
    ],
)
def test_response_request_id_with_aiohttp_and_plain_headers(
    headers: Mapping[str, str], request_id: str | None
) -> None:
    seen: list[Response] = []
    tracker = Hooks(on_response=seen.append).start_call("GET", "/webhooks/a", "http://h/api")
    tracker.request(1)
    tracker.response(1, 200, headers)
    assert seen[0].request_id == request_id == find_request_id(headers)
