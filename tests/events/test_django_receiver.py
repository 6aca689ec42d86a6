"""The Django receiver, through Django's test Client, AsyncClient and RequestFactory."""

from __future__ import annotations

import base64
import inspect
import json
import warnings
from typing import Any

import pytest
from django.core.cache import caches
from django.test import AsyncClient, Client, RequestFactory, override_settings

from lettr_async.events import InMemoryDedupStore, WebhookEvent, sign_payload
from lettr_async.events.django import (
    DjangoCacheDedupStore,
    PerProcessCacheWarning,
    webhook_view,
)

from .django_app import settings as app_settings
from .django_app import urls
from .payloads import BOUNCE, CLICK, RELAY_PERMFAIL, delivery, event, item

USER, PASSWORD = app_settings.USERNAME, app_settings.PASSWORD
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


pytestmark = pytest.mark.usefixtures("django_app")


@pytest.fixture(autouse=True)
def _fresh_state() -> None:
    urls.recorder.reset()
    for view in urls.VIEWS:
        store = view.lettr_receiver.dedup_store
        assert isinstance(store, InMemoryDedupStore)
        store.clear()
    caches["default"].clear()


@pytest.fixture
def client() -> Client:
    return Client(enforce_csrf_checks=True)  # the views must be CSRF-exempt


def ids() -> list[str | None]:
    return [e.id for call in urls.recorder.calls for e in call]


def post(client: Client, path: str, body: bytes, **headers: str) -> Any:
    return client.post(path, body, content_type="application/json", headers=headers)


@pytest.mark.parametrize("path", ["/hooks/basic/", "/hooks/decorated/"])
def test_delivery_is_handled(client: Client, path: str) -> None:
    body = delivery(
        item("message_event", BOUNCE),
        item("track_event", CLICK),
        item("relay_event", RELAY_PERMFAIL),
    )
    response = post(client, path, body, Authorization=AUTH)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"received": 3, "duplicates": 0}
    [events] = urls.recorder.calls
    assert [e.type for e in events] == [
        "message.bounce",
        "engagement.click",
        "relay.relay_permfail",
    ]


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic " + base64.b64encode(b"lettr:nope").decode(), "Basic !!!", "Bearer x"],
)
def test_bad_credentials_get_401(client: Client, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = post(client, "/hooks/basic/", event("e1"), **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic ")
    assert PASSWORD not in response.content.decode()
    assert urls.recorder.calls == []


def test_bearer(client: Client) -> None:
    assert post(client, "/hooks/bearer/", event("b1"), Authorization="Bearer x").status_code == 401
    token = f"Bearer {app_settings.BEARER_TOKEN}"
    assert post(client, "/hooks/bearer/", event("b1"), Authorization=token).status_code == 200
    assert ids() == ["b1"]


def test_signature(client: Client) -> None:
    body = event("s1")
    stale = sign_payload(body, app_settings.SIGNING_SECRET, timestamp=1)
    response = post(client, "/hooks/signed/", body, **{"Lettr-Signature": stale})
    assert (response.status_code, response.json()["reason"]) == (401, "timestamp_out_of_tolerance")
    good = sign_payload(body, app_settings.SIGNING_SECRET)
    response = post(client, "/hooks/signed/", body, **{"Lettr-Signature": good})
    assert response.status_code == 200
    assert ids() == ["s1"]


@pytest.mark.parametrize("body", [b"", b"<html>", b'{"a": 1}', b'[{"msys": 3}]'])
def test_malformed_body_gets_400(client: Client, body: bytes) -> None:
    response = post(client, "/hooks/basic/", body, Authorization=AUTH)
    assert response.status_code == 400
    assert response.json()["error"] == "malformed payload"
    assert urls.recorder.calls == []


@pytest.mark.parametrize("path", ["/hooks/basic/", "/hooks/cache/"])
def test_duplicate_delivery_is_processed_once(client: Client, path: str) -> None:
    body = event("d1")
    assert post(client, path, body, Authorization=AUTH).json() == {"received": 1, "duplicates": 0}
    assert post(client, path, body, Authorization=AUTH).json() == {"received": 1, "duplicates": 1}
    assert ids() == ["d1"]


@pytest.mark.parametrize("path", ["/hooks/basic/", "/hooks/cache/", "/hooks/async/"])
def test_handler_failure_gets_500_and_retry_is_processed(client: Client, path: str) -> None:
    urls.recorder.failures = 1
    body = event("r1")
    response = post(client, path, body, Authorization=AUTH)
    assert response.status_code == 500
    assert response.json() == {"error": "handler failed"}
    assert urls.recorder.calls == []
    response = post(client, path, body, Authorization=AUTH)  # Lettr's retry
    assert response.status_code == 200
    assert ids() == ["r1"]


def test_only_post(client: Client) -> None:
    response = client.get("/hooks/basic/", headers={"Authorization": AUTH})
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_views_are_csrf_exempt_and_keep_handler_names() -> None:
    for view in urls.VIEWS:
        assert view.csrf_exempt is True
    assert urls.decorated.__name__ == "decorated"


@pytest.mark.anyio
async def test_async_handler_gets_async_view() -> None:
    assert inspect.iscoroutinefunction(urls.async_view)
    assert not inspect.iscoroutinefunction(urls.basic_view)
    client = AsyncClient(enforce_csrf_checks=True)
    body = event("a1")
    response = await client.post(
        "/hooks/async/", body, content_type="application/json", headers={"Authorization": AUTH}
    )
    assert response.status_code == 200
    response = await client.post(
        "/hooks/async/", body, content_type="application/json", headers={"Authorization": AUTH}
    )
    assert response.json() == {"received": 1, "duplicates": 1}
    assert ids() == ["a1"]


def test_request_factory_with_a_fresh_view() -> None:
    received: list[list[WebhookEvent]] = []
    view = webhook_view(received.append, bearer_token="tkn")
    factory = RequestFactory()
    request = factory.post(
        "/anywhere", event("f1"), content_type="application/json", HTTP_AUTHORIZATION="Bearer tkn"
    )
    response = view(request)
    assert response.status_code == 200
    assert [e.id for e in received[0]] == ["f1"]
    assert json.loads(view(request).content) == {"received": 1, "duplicates": 1}
    assert view.__module__ == "lettr_async.events.django"  # list.append has no module


def test_django_cache_store() -> None:
    store = DjangoCacheDedupStore(timeout=60, warn_per_process=False)
    long_id = "id with spaces " + "x" * 300  # would be an invalid memcached key unhashed
    assert store.add(long_id)
    assert not store.add(long_id)
    store.discard(long_id)
    assert store.add(long_id)
    assert "timeout=60" in repr(store)


# --- DjangoCacheDedupStore on a per-process cache (issue 10, item 15) ---------------


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget which aliases were already warned about in this process."""
    import lettr_async.events.django as receiver_module

    monkeypatch.setattr(receiver_module, "_warned_aliases", set())


def _caches(tmp_path: Any) -> dict[str, Any]:
    return {
        **app_settings.OVERRIDES["CACHES"],
        # LocMemCache keeps one store per LOCATION for the whole process: a name of
        # this test's own, so an entry another test left (in any order) is not seen.
        "local": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": str(tmp_path / "local"),
        },
        "dummy": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
        "files": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        },
    }


def _emitted(action: Any) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    return [w for w in caught if issubclass(w.category, PerProcessCacheWarning)]


@pytest.mark.usefixtures("fresh_warnings")
def test_locmem_cache_warns_once_per_process(tmp_path: Any) -> None:
    with override_settings(CACHES=_caches(tmp_path)):
        first, second = DjangoCacheDedupStore("local"), DjangoCacheDedupStore("local")

        def use_both() -> None:
            assert first.add("e1")
            assert not first.add("e1")
            assert not second.add("e1")
            second.discard("e1")

        caught = _emitted(use_both)
        assert len(caught) == 1
        message = str(caught[0].message)
        assert "'local'" in message
        assert "LocMemCache" in message
        assert "gunicorn -w 4" in message
        assert caught[0].filename == __file__  # points at the caller's line
        assert _emitted(lambda: DjangoCacheDedupStore("local").add("e2")) == []


@pytest.mark.usefixtures("fresh_warnings")
def test_dummy_cache_warns_that_nothing_is_deduplicated(tmp_path: Any) -> None:
    with override_settings(CACHES=_caches(tmp_path)):
        store = DjangoCacheDedupStore("dummy")
        caught = _emitted(lambda: (store.add("e1"), store.add("e1")))
        assert len(caught) == 1
        assert "DummyCache" in str(caught[0].message)
        assert "stores nothing" in str(caught[0].message)


@pytest.mark.usefixtures("fresh_warnings")
def test_shared_cache_does_not_warn(tmp_path: Any) -> None:
    with override_settings(CACHES=_caches(tmp_path)):
        store = DjangoCacheDedupStore("files")  # visible to every process on the host
        assert _emitted(lambda: store.add("e1")) == []
        assert not store.add("e1")  # warnings are errors here: none was emitted


@pytest.mark.usefixtures("fresh_warnings")
def test_per_process_warning_can_be_turned_off(tmp_path: Any) -> None:
    with override_settings(CACHES=_caches(tmp_path)):
        store = DjangoCacheDedupStore("local", warn_per_process=False)
        assert _emitted(lambda: store.add("e1")) == []
