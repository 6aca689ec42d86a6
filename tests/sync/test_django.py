"""The example Django project: sync and async views, test client and a threaded server."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from lettr_async.testing import FakeLettr

pytest.importorskip("django")

VIEWS = ("/webhooks/sync/", "/webhooks/async/")


@pytest.mark.parametrize("path", VIEWS)
def test_views_with_the_test_client(django_project: FakeLettr, path: str) -> None:
    from django.test import Client

    http = Client()
    created = http.post(
        path,
        data={"name": "From Django", "url": "https://example.com/django", "events": ["delivery"]},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["name"] == "From Django"
    listed = http.get(path)
    assert listed.status_code == 200
    assert [w["name"] for w in listed.json()["webhooks"]] == ["From Django"]
    assert django_project.requests[0].json["events"] == ["message.delivery"]


def test_sync_view_shares_one_module_level_client(django_project: FakeLettr) -> None:
    from django.test import Client

    from tests.django_project import views

    http = Client()
    for _ in range(10):
        assert http.get("/webhooks/sync/").status_code == 200
    first = views.lettr_client()
    assert http.get("/webhooks/sync/").status_code == 200
    assert views.lettr_client() is first
    assert django_project.connections_opened == 1


def test_api_errors_become_a_502(django_project: FakeLettr) -> None:
    from django.test import Client

    for path in VIEWS:
        answer = Client().post(
            path,
            data={"name": "No events", "url": "not a url"},
            content_type="application/json",
        )
        assert answer.status_code == 502
        assert answer.json()["error"] == "ValidationError"


@pytest.mark.anyio
async def test_async_view_under_asgi(django_project: FakeLettr) -> None:
    from django.test import AsyncClient

    from tests.django_project import views

    http = AsyncClient()
    for _ in range(5):
        answer = await http.get("/webhooks/async/")
        assert answer.status_code == 200
    # One loop (ASGI): one AsyncLettr, one pooled connection.
    assert django_project.connections_opened == 1
    await views.async_lettr_client().aclose()


class _Server:
    """Django's threaded WSGI server on loopback, joined completely when stopped."""

    def __init__(self) -> None:
        from django.core.handlers.wsgi import WSGIHandler
        from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

        class QuietHandler(WSGIRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """No access log on the test output."""

        class JoinedServer(ThreadedWSGIServer):
            daemon_threads = False
            block_on_close = True

        self.httpd = JoinedServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
        self.httpd.set_app(WSGIHandler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="django-wsgi")

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def live_server(django_project: FakeLettr) -> Iterator[_Server]:
    """The example project served by a real threaded WSGI server."""
    with _Server() as server:
        yield server


def _get(url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Connection": "close"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
        assert response.status == 200
        body: dict[str, Any] = json.load(response)
        return body


def test_many_concurrent_requests_on_a_threaded_wsgi_server(
    django_project: FakeLettr, live_server: _Server
) -> None:
    from tests.django_project import views

    django_project.add_webhook(name="Live", url="https://example.com/live")
    start = threading.Barrier(16)

    def browser(index: int) -> list[str]:
        start.wait()
        seen: list[str] = []
        for request in range(10):
            path = VIEWS[(index + request) % 2]
            seen.extend(w["name"] for w in _get(live_server.url + path)["webhooks"])
        return seen

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(browser, range(16)))
    assert results == [["Live"] * 10] * 16
    assert len(django_project.requests) == 160
    # The 80 sync-view requests shared the module-level client's pool; each
    # async-view request ran in its own loop (Django's WSGI async adapter).
    sync_client = views.lettr_client()
    assert sync_client.webhooks.list()[0].name == "Live"
    assert django_project.connections_opened <= 80 + 16 + 1
