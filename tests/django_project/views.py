"""Views calling Lettr: the patterns the README recommends for Django.

* Sync views share ONE module-level ``lettr_sync.Lettr``. It is thread-safe
  (threaded WSGI servers run views concurrently), pools connections across
  requests, starts nothing until first used, and survives gunicorn's
  ``--preload`` forks. It is created lazily here only because the tests
  change ``LETTR_BASE_URL`` at run time; a real project can simply write
  ``LETTR = lettr_sync.Lettr(settings.LETTR_API_KEY)`` in a module.
* Async views use ``lettr_async.AsyncLettr``, one per event loop: under ASGI
  that is one client for the whole process; under WSGI Django runs each
  async view in a fresh ``asyncio.run`` loop, whose end closes that loop's
  connections. Calling the sync client from an async view would block the
  loop (and warns ``SyncInAsyncContextWarning``).
"""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse, JsonResponse

import lettr_sync
from lettr_async import AsyncLettr, LettrError, Webhook

_lock = threading.Lock()
_sync_client: lettr_sync.Lettr | None = None
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncLettr] = (
    weakref.WeakKeyDictionary()
)


def _settings() -> dict[str, Any]:
    return {
        "api_key": settings.LETTR_API_KEY,
        "base_url": settings.LETTR_BASE_URL,
        "rate_limit": settings.LETTR_RATE_LIMIT,
    }


def lettr_client() -> lettr_sync.Lettr:
    """The process-wide sync client, built from settings on first use."""
    global _sync_client
    client = _sync_client
    if client is None:
        with _lock:
            if _sync_client is None:
                _sync_client = lettr_sync.Lettr(**_settings())
            client = _sync_client
    return client


def async_lettr_client() -> AsyncLettr:
    """The async client of the running event loop (connections cannot cross loops)."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = _async_clients[loop] = AsyncLettr(**_settings())
    return client


def close_clients() -> None:
    """Close the shared sync client (tests, shutdown hooks); the next use makes a new one.

    Async clients need no closing: each loop's connections close with the loop.
    """
    global _sync_client
    with _lock:
        client, _sync_client = _sync_client, None
    if client is not None:
        client.close()


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("LETTR_"):
        close_clients()


setting_changed.connect(_on_setting_changed)


def _render(webhook: Webhook) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "name": webhook.name,
        "url": webhook.url,
        "enabled": webhook.enabled,
        "all_events": webhook.event_types is None,
    }


def _create_arguments(request: HttpRequest) -> dict[str, Any]:
    body = json.loads(request.body or b"{}")
    return {
        "name": body["name"],
        "url": body["url"],
        "auth_type": "none",
        "events_mode": "selected" if body.get("events") else "all",
        "events": body.get("events") or None,
    }


def _error(exc: LettrError) -> JsonResponse:
    return JsonResponse({"error": type(exc).__name__, "message": exc.message}, status=502)


def webhooks_sync(request: HttpRequest) -> HttpResponse:
    """GET lists the team's webhooks, POST creates one: with the shared sync client."""
    client = lettr_client()
    try:
        if request.method == "POST":
            created = client.webhooks.create(**_create_arguments(request))
            return JsonResponse(_render(created), status=201)
        return JsonResponse({"webhooks": [_render(w) for w in client.webhooks.list()]})
    except LettrError as exc:
        return _error(exc)


async def webhooks_async(request: HttpRequest) -> HttpResponse:
    """The same as ``webhooks_sync``, as an async view with the loop's AsyncLettr."""
    client = async_lettr_client()
    try:
        if request.method == "POST":
            created = await client.webhooks.create(**_create_arguments(request))
            return JsonResponse(_render(created), status=201)
        return JsonResponse({"webhooks": [_render(w) for w in await client.webhooks.list()]})
    except LettrError as exc:
        return _error(exc)
