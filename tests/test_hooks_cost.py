"""Hooks cost only what is listened to (issue 23): records of other events are not built."""

from __future__ import annotations

import dis
import inspect
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


@pytest.mark.anyio
async def test_one_response_hook_adds_five_calls_of_ours(fake: FakeLettr) -> None:
    """What a hooked ``get`` runs of ours, beyond an unhooked one: the tracker's
    ``start_call``, ``request`` and ``response``, and the two records' ``__init__``.
    No ``end`` (nobody reads a ``CallEnd``), no dispatch loop, no request-id helper."""
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
        "hooks.__init__": 2,  # CallInfo and Response
        "hooks.request": 1,
        "hooks.response": 1,
    }
    assert seen[-1].request_id is not None  # read without errors.find_request_id


@pytest.mark.parametrize("record", [hooks_module.CallInfo, Response], ids=str)
def test_hand_written_record_inits_take_attrs_fields(record: type) -> None:
    """``CallInfo`` and ``Response`` spell attrs' ``__init__`` out (without its unused
    ``object.__setattr__`` lookup): the parameters must stay the fields, in order, so
    positional construction and ``attrs.evolve`` keep working."""
    params = list(inspect.signature(vars(record)["__init__"]).parameters)[1:]
    assert params == [field.name for field in attrs.fields(record)]
    values = {name: f"v-{i}" for i, name in enumerate(params)}
    built = record(**values)
    assert vars(built) == values
    assert attrs.evolve(built, **{params[1]: "other"}) != built
    assert attrs.evolve(built) == built
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(built, params[0], "changed")


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
