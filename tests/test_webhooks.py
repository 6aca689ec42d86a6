"""The webhooks resource against FakeLettr: operations, encoding, validation, models."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from lettr_async import (
    EVENT_TYPES,
    AsyncLettr,
    AuthType,
    LastStatus,
    NotFoundError,
    ValidationError,
    Webhook,
)
from lettr_async._converter import WebhookEnvelope, WebhookListEnvelope, structure_response
from lettr_async._pipeline import ApiRequest
from lettr_async.resources._params import build_create_params, build_update_params
from lettr_async.testing import FakeLettr
from tests.helpers import API_KEY, make_client, requests_to

pytestmark = pytest.mark.anyio

SPEC = json.loads((Path(__file__).parent / "data" / "webhooks-openapi.json").read_text())


async def test_lifecycle_create_get_list_update_delete(fake: FakeLettr) -> None:
    async with make_client(fake) as client:
        created = await client.webhooks.create(
            name="Orders",
            url="https://example.com/hooks/orders",
            auth_type="basic",
            auth_username="user",
            auth_password="s3cret-pass",
            events_mode="selected",
            events=["delivery", "engagament.click", "message.bounce"],
        )
        assert isinstance(created, Webhook)
        assert created.id.startswith("webhook-")
        assert created.auth_type is AuthType.BASIC
        assert created.has_auth_credentials is True
        assert created.event_types == ["message.delivery", "engagement.click", "message.bounce"]
        # Short and legacy names were normalised before they were sent.
        assert requests_to(fake, "POST")[0].json["events"] == created.event_types

        assert await client.webhooks.get(created.id) == created
        assert [w.id for w in await client.webhooks.list()] == [created.id]

        updated = await client.webhooks.update(created.id, name="Renamed", active=False)
        assert (updated.name, updated.enabled) == ("Renamed", False)
        put = requests_to(fake, "PUT")[0]
        assert put.json == {"name": "Renamed", "active": False}

        await client.webhooks.delete(created.id)
        with pytest.raises(NotFoundError) as info:
            await client.webhooks.get(created.id)
        assert info.value.status_code == 404
        assert info.value.error_code == "not_found"


async def test_every_request_carries_auth_accept_and_user_agent(fake: FakeLettr) -> None:
    async with make_client(fake) as client:
        await client.webhooks.list()
    headers = fake.requests[0].headers
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith("lettr-async/")


async def test_connections_are_reused(fake: FakeLettr) -> None:
    async with make_client(fake) as client:
        for _ in range(10):
            await client.webhooks.list()
    assert fake.connections_opened == 1


async def test_list_structures_timestamps_and_statuses(fake: FakeLettr) -> None:
    seeded = fake.add_webhook(name="All", url="https://example.com/all")
    async with make_client(fake) as client:
        [webhook] = await client.webhooks.list()
    assert webhook.id == seeded["id"]
    assert webhook.event_types is None
    assert webhook.last_status is None
    assert webhook.last_successful_at is None


async def test_update_target_is_deprecated_alias_of_url(fake: FakeLettr) -> None:
    seeded = fake.add_webhook(name="A", url="https://example.com/a")
    async with make_client(fake) as client:
        with pytest.warns(DeprecationWarning, match="target"):
            updated = await client.webhooks.update(seeded["id"], target="https://example.com/b")
        assert updated.url == "https://example.com/b"
        assert requests_to(fake, "PUT")[0].json == {"url": "https://example.com/b"}
        with pytest.raises(TypeError, match="not both"):
            await client.webhooks.update(
                seeded["id"], url="https://example.com/c", target="https://example.com/d"
            )
        with pytest.raises(ValidationError, match="nothing to update"):
            await client.webhooks.update(seeded["id"])
    assert len(requests_to(fake, "PUT")) == 1


@pytest.mark.parametrize(
    ("webhook_id", "raw_path"),
    [
        ("../domains", "/webhooks/..%2Fdomains"),
        ("..", "/webhooks/%2E%2E"),
        ("a b?c#d", "/webhooks/a%20b%3Fc%23d"),
    ],
)
async def test_ids_are_encoded_as_one_path_segment(
    fake: FakeLettr, webhook_id: str, raw_path: str
) -> None:
    async with make_client(fake) as client:
        with pytest.raises(NotFoundError):
            await client.webhooks.get(webhook_id)
    assert fake.requests[0].raw_path == raw_path
    assert fake.requests[0].path == f"/webhooks/{webhook_id}"


@pytest.mark.parametrize("bad_id", ["", "   ", None, 42])
async def test_bad_ids_fail_before_any_request(fake: FakeLettr, bad_id: Any) -> None:
    async with make_client(fake) as client:
        for call in (client.webhooks.get, client.webhooks.delete):
            with pytest.raises(ValidationError) as info:
                await call(bad_id)
            assert "webhook_id" in info.value.errors
            assert info.value.status_code is None
    assert fake.requests == []


VALID_CREATE: dict[str, Any] = {
    "name": "Hook",
    "url": "https://example.com/hook",
    "auth_type": "none",
    "events_mode": "all",
}

CREATE_CASES: list[tuple[dict[str, Any], str]] = [
    ({"name": None}, "name"),
    ({"name": ""}, "name"),
    ({"name": "x" * 256}, "name"),
    ({"name": 5}, "name"),
    ({"url": None}, "url"),
    ({"url": "example.com/hook"}, "url"),
    ({"url": "ftp://example.com/hook"}, "url"),
    ({"url": "https://example.com/" + "a" * 2048}, "url"),
    ({"auth_type": "digest"}, "auth_type"),
    ({"auth_type": None}, "auth_type"),
    ({"events_mode": "some"}, "events_mode"),
    ({"auth_type": "basic"}, "auth_username"),
    ({"auth_type": "basic", "auth_username": "u"}, "auth_password"),
    ({"auth_type": "basic", "auth_username": "u", "auth_password": "p" * 256}, "auth_password"),
    ({"auth_type": "oauth2"}, "oauth_client_id"),
    (
        {"auth_type": "oauth2", "oauth_client_id": "i", "oauth_client_secret": "s"},
        "oauth_token_url",
    ),
    (
        {
            "auth_type": "oauth2",
            "oauth_client_id": "i",
            "oauth_client_secret": "s",
            "oauth_token_url": "not a url",
        },
        "oauth_token_url",
    ),
    ({"events_mode": "selected"}, "events"),
    ({"events_mode": "selected", "events": []}, "events"),
    ({"events_mode": "selected", "events": "message.delivery"}, "events"),
    ({"events_mode": "selected", "events": ["message.nope"]}, "events.0"),
    ({"events_mode": "selected", "events": ["delivery", 3]}, "events.1"),
    ({"events_mode": "all", "events": ["delivery"]}, "events"),
]


@pytest.mark.parametrize(("override", "field"), CREATE_CASES)
async def test_create_validation_names_the_field_and_sends_nothing(
    fake: FakeLettr, override: dict[str, Any], field: str
) -> None:
    async with make_client(fake) as client:
        with pytest.raises(ValidationError) as info:
            await client.webhooks.create(**{**VALID_CREATE, **override})
    assert field in info.value.errors, info.value.errors
    assert info.value.status_code is None
    assert field in str(info.value)
    assert fake.requests == []


UPDATE_CASES: list[tuple[dict[str, Any], str]] = [
    ({"name": "x" * 256}, "name"),
    ({"url": "nope"}, "url"),
    ({"auth_type": "kerberos"}, "auth_type"),
    ({"events": []}, "events"),
    ({"events": ["bogus"]}, "events.0"),
    ({"active": "yes"}, "active"),
    ({"oauth_token_url": "relative/path"}, "oauth_token_url"),
    ({"auth_password": "p" * 256}, "auth_password"),
]


@pytest.mark.parametrize(("kwargs", "field"), UPDATE_CASES)
async def test_update_validation_names_the_field_and_sends_nothing(
    fake: FakeLettr, kwargs: dict[str, Any], field: str
) -> None:
    async with make_client(fake) as client:
        with pytest.raises(ValidationError) as info:
            await client.webhooks.update("webhook-abc123", **kwargs)
    assert field in info.value.errors
    assert fake.requests == []


async def test_validation_messages_never_echo_secrets(fake: FakeLettr) -> None:
    secret = "hunter2-" + "x" * 300
    async with make_client(fake) as client:
        with pytest.raises(ValidationError) as info:
            await client.webhooks.create(
                **{**VALID_CREATE, "auth_type": "basic"},
                auth_username="user",
                auth_password=secret,
            )
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in repr(info.value.errors)


async def test_secrets_never_reach_logs_or_reprs(
    fake: FakeLettr, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="lettr_async")
    client = make_client(fake)
    async with client:
        await client.webhooks.create(
            **{**VALID_CREATE, "auth_type": "basic"},
            auth_username="user",
            auth_password="pa55w0rd-secret",
        )
    assert "POST /webhooks" in caplog.text
    for secret in (API_KEY, "pa55w0rd-secret"):
        assert secret not in caplog.text
        assert secret not in repr(client)
    params = build_create_params(
        **{**VALID_CREATE, "auth_type": "basic"}, auth_username="u", auth_password="pa55w0rd"
    )
    assert "pa55w0rd" not in repr(ApiRequest("POST", "/webhooks", params))


def _spec_example(path: str, method: str, status: str) -> Any:
    return SPEC["paths"][path][method]["responses"][status]["content"]["application/json"][
        "example"
    ]


def test_spec_response_examples_structure() -> None:
    listed = structure_response(
        _spec_example("/webhooks", "get", "200"), WebhookListEnvelope
    ).data.webhooks
    assert [w.id for w in listed] == ["webhook-abc123", "webhook-def456"]
    assert listed[0].last_successful_at == datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)
    assert listed[0].last_status is LastStatus.SUCCESS
    assert listed[1].event_types is None
    assert listed[1].last_status is LastStatus.FAILURE
    assert listed[1].last_failure_at is not None
    assert listed[1].last_failure_at.tzinfo is not None
    for path, method, status in [
        ("/webhooks", "post", "201"),
        ("/webhooks/{webhookId}", "get", "200"),
        ("/webhooks/{webhookId}", "put", "200"),
    ]:
        webhook = structure_response(_spec_example(path, method, status), WebhookEnvelope).data
        assert webhook.id == "webhook-abc123"


def test_spec_request_examples_validate() -> None:
    create_example = SPEC["paths"]["/webhooks"]["post"]["requestBody"]["content"][
        "application/json"
    ]["example"]
    assert build_create_params(**create_example)["events"] == ["message.delivery", "message.bounce"]
    update_example = SPEC["paths"]["/webhooks/{webhookId}"]["put"]["requestBody"]["content"][
        "application/json"
    ]["example"]
    assert build_update_params(**update_example)["active"] is False


def test_event_type_catalogue_matches_spec() -> None:
    enum = SPEC["components"]["schemas"]["UpdateWebhookRequest"]["properties"]["events"]["items"][
        "enum"
    ]
    assert list(EVENT_TYPES) == enum


def test_repr_shows_base_url_never_key() -> None:
    client = AsyncLettr("lttr_super_secret", base_url="https://lettr.test/api")
    assert repr(client) == "AsyncLettr(base_url='https://lettr.test/api')"


def test_configuration_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LETTR_API_KEY", "lttr_from_env")
    monkeypatch.setenv("LETTR_BASE_URL", "http://127.0.0.1:9/api")
    client = AsyncLettr()
    assert client.base_url == "http://127.0.0.1:9/api"
    monkeypatch.delenv("LETTR_BASE_URL")
    assert AsyncLettr().base_url == "https://app.lettr.com/api"


@pytest.mark.parametrize("key", [None, "", "   "])
def test_missing_key_says_how_to_provide_one(monkeypatch: pytest.MonkeyPatch, key: Any) -> None:
    monkeypatch.delenv("LETTR_API_KEY", raising=False)
    with pytest.raises(ValidationError, match="LETTR_API_KEY") as info:
        AsyncLettr(key)
    assert "api_key" in info.value.errors


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"timeout": 0}, "timeout"),
        ({"timeout": "1"}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"rate_limit": 0}, "rate_limit"),
        ({"base_url": "app.lettr.com"}, "base_url"),
    ],
)
def test_bad_client_options_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        AsyncLettr("lttr_x", **kwargs)
    assert field in info.value.errors


def test_validate_update_fields_checks_without_sending() -> None:
    from lettr_async import validate_update_fields

    checked = validate_update_fields(
        {"events": ["delivery", "bounce", "delivery"], "active": False}
    )
    assert checked == {"events": ["message.delivery", "message.bounce"], "active": False}
    with pytest.raises(ValidationError) as caught:
        validate_update_fields({"url": "not a url", "auth_password": "s3cret-value"})
    assert set(caught.value.errors) == {"url"}
    assert "s3cret-value" not in str(caught.value)
    with pytest.raises(ValidationError) as unknown:
        validate_update_fields({"nmae": "x"})
    assert "nmae" in unknown.value.errors
