"""Every error status, with JSON and non-JSON bodies, maps to its typed exception."""

from __future__ import annotations

from typing import Any

import pytest

from lettr_async import (
    APIStatusError,
    AsyncLettr,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    LettrError,
    NotFoundError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
    UnprocessableEntityError,
    ValidationError,
)
from lettr_async.testing import FakeLettr, Fault
from tests.helpers import API_KEY, make_client

pytestmark = pytest.mark.anyio

HTML_502 = "<html><body><h1>502 Bad Gateway</h1></body></html>"

STATUS_CASES: list[tuple[int, type[LettrError]]] = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (403, ForbiddenError),
    (404, NotFoundError),
    (409, ConflictError),
    (418, APIStatusError),
    (422, UnprocessableEntityError),
    (429, RateLimitError),
    (500, ServerError),
    (502, ServerError),
    (503, ServerError),
    (504, ServerError),
]


@pytest.mark.parametrize(("status", "cls"), STATUS_CASES)
async def test_json_error_bodies_map_by_status(
    fake: FakeLettr, status: int, cls: type[LettrError]
) -> None:
    body: dict[str, Any] = {"message": "Something specific.", "error_code": "some_code"}
    if status == 422:
        body = {
            "message": "Validation failed.",
            "error_code": "validation_error",
            "errors": {"name": ["The name field is required."]},
        }
    fake.inject(Fault.status(status, json=body, headers={"Retry-After": "0"}))
    async with make_client(fake, max_retries=0) as client:
        with pytest.raises(cls) as info:
            await client.webhooks.list()
    assert type(info.value) is cls
    exc: Any = info.value
    assert exc.status_code == status
    assert exc.message == body["message"]
    assert exc.error_code == body["error_code"]
    assert exc.request_id
    assert exc.headers["X-Request-Id"] == exc.request_id
    assert "\n" not in str(exc)
    assert str(status) in str(exc)
    if status == 422:
        assert exc.errors == {"name": ["The name field is required."]}
        assert "name: The name field is required." in str(exc)
    if status == 429:
        assert exc.retry_after == 0


@pytest.mark.parametrize(("status", "cls"), STATUS_CASES)
@pytest.mark.parametrize("body", [HTML_502, ""])
async def test_non_json_error_bodies_still_map_by_status(
    fake: FakeLettr, status: int, cls: type[LettrError], body: str
) -> None:
    fake.inject(Fault.status(status, body=body, content_type="text/html"))
    async with make_client(fake, max_retries=0) as client:
        with pytest.raises(cls) as info:
            await client.webhooks.list()
    exc: Any = info.value
    assert exc.status_code == status
    assert "no JSON error body" in exc.message
    assert "<html>" not in str(exc)


async def test_unknown_error_codes_are_kept(fake: FakeLettr) -> None:
    fake.inject(Fault.status(400, json={"message": "New.", "error_code": "brand_new_code"}))
    async with make_client(fake) as client:
        with pytest.raises(BadRequestError) as info:
            await client.webhooks.list()
    assert info.value.error_code == "brand_new_code"


async def test_wrong_api_key_is_authentication_error_without_the_key(fake: FakeLettr) -> None:
    async with make_client(fake) as client:
        client._state.headers["Authorization"] = "Bearer lttr_wrong_key"
        with pytest.raises(AuthenticationError) as info:
            await client.webhooks.list()
    assert info.value.message == "Invalid API key."
    assert info.value.error_code is None
    assert "lttr_wrong_key" not in str(info.value)
    assert API_KEY not in repr(info.value.__dict__)


async def test_malformed_success_body_is_unexpected_response(fake: FakeLettr) -> None:
    fake.inject(Fault.malformed())
    async with make_client(fake) as client:
        with pytest.raises(UnexpectedResponseError) as info:
            await client.webhooks.list()
    assert info.value.status_code == 200


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"webhooks": [{"id": "w"}]}, "$.data.webhooks[0].name"),
        ({"webhooks": "nope"}, "$.data.webhooks"),
        ({}, "$.data.webhooks"),
    ],
)
async def test_wrong_shape_names_the_field_path(fake: FakeLettr, data: Any, path: str) -> None:
    fake.inject(Fault.status(200, json={"message": "ok", "data": data}))
    async with make_client(fake) as client:
        with pytest.raises(UnexpectedResponseError) as info:
            await client.webhooks.list()
    assert path in str(info.value)


async def test_wrong_field_type_in_webhook_names_the_path(fake: FakeLettr) -> None:
    seeded = fake.add_webhook(name="A", url="https://example.com/a")
    view = {**fake.webhooks[seeded["id"]], "enabled": "yes"}
    fake.inject(Fault.status(200, json={"message": "ok", "data": view}))
    async with make_client(fake) as client:
        with pytest.raises(UnexpectedResponseError) as info:
            await client.webhooks.get(seeded["id"])
    assert info.value.path == "$.data.enabled"


async def test_delete_of_missing_webhook_is_not_found(fake: FakeLettr) -> None:
    async with make_client(fake) as client:
        with pytest.raises(NotFoundError):
            await client.webhooks.delete("webhook-missing")


async def test_duplicate_url_is_conflict(fake: FakeLettr) -> None:
    fake.add_webhook(name="A", url="https://example.com/a")
    async with make_client(fake) as client:
        with pytest.raises(ConflictError) as info:
            await client.webhooks.create(
                name="B", url="https://example.com/a", auth_type="none", events_mode="all"
            )
    assert info.value.error_code == "resource_already_exists"


async def test_unknown_response_keys_are_ignored(fake: FakeLettr) -> None:
    seeded = fake.add_webhook(name="A", url="https://example.com/a")
    view = {**fake.webhooks[seeded["id"]], "brand_new_field": {"nested": True}}
    fake.inject(Fault.status(200, json={"message": "ok", "data": view, "meta": {"took_ms": 3}}))
    async with make_client(fake) as client:
        webhook = await client.webhooks.get(seeded["id"])
    assert webhook.id == seeded["id"]
    assert not hasattr(webhook, "brand_new_field")


async def test_unknown_event_types_from_a_newer_server_are_kept(fake: FakeLettr) -> None:
    seeded = fake.add_webhook(name="A", url="https://example.com/a")
    view = {**fake.webhooks[seeded["id"]], "event_types": ["delivery", "message.future_event"]}
    fake.inject(Fault.status(200, json={"message": "ok", "data": view}))
    async with make_client(fake) as client:
        webhook = await client.webhooks.get(seeded["id"])
    assert webhook.event_types == ["message.delivery", "message.future_event"]


async def test_a_server_422_is_both_a_validation_and_a_status_error(fake: FakeLettr) -> None:
    fake.inject(
        Fault.status(
            422,
            json={"message": "Bad.", "error_code": "validation_error", "errors": {"url": ["x"]}},
        )
    )
    async with make_client(fake, max_retries=0) as client:
        with pytest.raises(ValidationError) as info:
            await client.webhooks.list()
    exc = info.value
    assert isinstance(exc, APIStatusError)
    assert isinstance(exc, ValueError)
    assert exc.status_code == 422
    assert exc.errors == {"url": ["x"]}
    assert str(exc).startswith("422 validation_error: Bad.")


async def test_a_local_validation_error_is_a_value_error_and_says_it_once() -> None:
    async with AsyncLettr(API_KEY, base_url="http://127.0.0.1:9/api") as client:
        with pytest.raises(ValueError, match=r"invalid arguments for webhooks\.update") as info:
            await client.webhooks.update("w1", active="yes")  # type: ignore[arg-type]
    assert isinstance(info.value, ValidationError)
    assert not isinstance(info.value, APIStatusError)
    assert str(info.value).count("invalid") == 1
