"""The aiohttp.web receiver, served on 127.0.0.1 and called over real HTTP."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from lettr_async.events import InMemoryDedupStore, sign_payload
from lettr_async.events.aiohttp import webhook_handler

from .payloads import BOUNCE, CLICK, Recorder, delivery, event, item

pytestmark = pytest.mark.anyio

USER, PASSWORD = "lettr", "s3cret-pass"
TOKEN = "oauth-issued-token"
SECRET = "whsec_aiohttp"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def post(recorder: Recorder) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """POST to a real aiohttp server exposing several receiver configurations."""
    store = InMemoryDedupStore()
    app = web.Application()
    app.router.add_post("/basic", webhook_handler(recorder, basic_auth=(USER, PASSWORD)))
    app.router.add_post(
        "/async", webhook_handler(recorder.handle_async, basic_auth=(USER, PASSWORD))
    )
    app.router.add_post("/bearer", webhook_handler(recorder, bearer_token=TOKEN))
    app.router.add_post("/signed", webhook_handler(recorder, signing_secret=SECRET))
    app.router.add_route(
        "*", "/shared", webhook_handler(recorder, dedup_store=store, bearer_token=TOKEN)
    )
    app.router.add_post("/open", webhook_handler(recorder, dedup_store=False))
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:

        async def send(
            path: str,
            body: bytes | str,
            headers: dict[str, str] | None = None,
            method: str = "POST",
        ) -> Any:
            async with session.request(
                method, server.make_url(path), data=body, headers=headers or {}
            ) as response:
                payload = await response.json() if response.content_type.endswith("json") else None
                return response.status, payload, response.headers

        yield send


@pytest.mark.parametrize("path", ["/basic", "/async"])
async def test_delivery_is_handled(post: Any, recorder: Recorder, path: str) -> None:
    body = delivery(item("message_event", BOUNCE), item("track_event", CLICK))
    status, payload, _ = await post(path, body, AUTH)
    assert status == 200
    assert payload == {"received": 2, "duplicates": 0}
    [events] = recorder.calls
    assert [e.type for e in events] == ["message.bounce", "engagement.click"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic " + base64.b64encode(b"lettr:wrong").decode()},
        {"Authorization": "Basic %%%"},
        {"Authorization": f"Bearer {TOKEN}"},
    ],
)
async def test_bad_credentials_get_401(
    post: Any, recorder: Recorder, headers: dict[str, str]
) -> None:
    status, payload, response_headers = await post("/basic", event("e1"), headers)
    assert status == 401
    assert payload["error"] == "unauthorized"
    assert response_headers["WWW-Authenticate"].startswith("Basic ")
    assert recorder.calls == []


async def test_bearer(post: Any, recorder: Recorder) -> None:
    assert (await post("/bearer", event("b1"), {"Authorization": "Bearer nope"}))[0] == 401
    status, _, _ = await post("/bearer", event("b1"), {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200
    assert recorder.ids == ["b1"]


async def test_signature(post: Any, recorder: Recorder) -> None:
    body = event("s1")
    status, payload, _ = await post("/signed", body, {"Lettr-Signature": "t=1,v1=00"})
    assert (status, payload["reason"]) == (401, "no_matching_signature")
    status, payload, _ = await post("/signed", body)
    assert (status, payload["reason"]) == (401, "missing_header")
    status, _, _ = await post("/signed", body, {"Lettr-Signature": sign_payload(body, SECRET)})
    assert status == 200
    assert recorder.ids == ["s1"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b'{"msys": {}}',
        b"[1]",
        b"[" * 1001 + b"]" * 1001,  # RecursionError in json.loads: was a 500, retried 35 h
        b"[" * 100_000,
        b'[{"msys": {"message_event": ' + b"[" * 300 + b"]" * 300 + b"}}]",
    ],
    ids=["empty", "not-json", "object", "scalar-item", "nested-1001", "unclosed", "deep-item"],
)
async def test_malformed_body_gets_400(post: Any, recorder: Recorder, body: bytes) -> None:
    status, payload, _ = await post("/basic", body, AUTH)
    assert status == 400
    assert payload["error"] == "malformed payload"
    assert recorder.calls == []


async def test_auth_is_checked_before_parsing(post: Any) -> None:
    status, _, _ = await post("/basic", b"{not json")
    assert status == 401


async def test_duplicate_delivery_is_processed_once(post: Any, recorder: Recorder) -> None:
    body = delivery(
        item("message_event", {**BOUNCE, "event_id": "d1"}),
        item("message_event", {**BOUNCE, "event_id": "d1"}),  # duplicate inside a batch
        item("message_event", {**BOUNCE, "event_id": "d2"}),
    )
    status, payload, _ = await post("/basic", body, AUTH)
    assert (status, payload) == (200, {"received": 3, "duplicates": 1})
    status, payload, _ = await post("/basic", body, AUTH)
    assert (status, payload) == (200, {"received": 3, "duplicates": 3})
    assert recorder.ids == ["d1", "d2"]  # the handler was not called for the replay


async def test_concurrent_duplicates_are_processed_once(post: Any, recorder: Recorder) -> None:
    body = event("c1")
    results = await asyncio.gather(*(post("/async", body, AUTH) for _ in range(10)))
    assert {status for status, _, _ in results} == {200}
    assert recorder.ids == ["c1"]


@pytest.mark.parametrize("path", ["/basic", "/async"])
async def test_handler_failure_gets_500_and_retry_is_processed(
    post: Any, recorder: Recorder, path: str
) -> None:
    recorder.failures = 1
    body = event("r1")
    status, payload, _ = await post(path, body, AUTH)
    assert (status, payload) == (500, {"error": "handler failed"})
    assert recorder.calls == []
    status, payload, _ = await post(path, body, AUTH)  # Lettr's retry
    assert (status, payload) == (200, {"received": 1, "duplicates": 0})
    assert recorder.ids == ["r1"]


async def test_dedup_can_be_disabled_and_events_without_id_always_pass(
    post: Any, recorder: Recorder
) -> None:
    await post("/open", event("x"))
    await post("/open", event("x"))
    no_id = delivery(item("message_event", {"type": "delivery"}))
    await post("/basic", no_id, AUTH)
    await post("/basic", no_id, AUTH)
    assert recorder.ids == ["x", "x", None, None]


async def test_ping_delivery_does_not_call_handler(post: Any, recorder: Recorder) -> None:
    status, payload, _ = await post("/basic", b'[{"msys": {}}]', AUTH)
    assert (status, payload) == (200, {"received": 0, "duplicates": 0})
    assert recorder.calls == []


async def test_non_post_gets_405(post: Any) -> None:
    status, _, headers = await post(
        "/shared", b"", {"Authorization": f"Bearer {TOKEN}"}, method="GET"
    )
    assert status == 405
    assert headers["Allow"] == "POST"
