"""Receive Lettr webhook deliveries in a Django project.

Usage::

    # urls.py
    from lettr_async.events.django import webhook_view

    def handle(events):
        for event in events:
            ...

    urlpatterns = [
        path("hooks/lettr/", webhook_view(handle, basic_auth=("lettr", "s3cret"))),
    ]

or, as a decorator::

    @lettr_webhook(bearer_token=settings.LETTR_WEBHOOK_TOKEN)
    async def lettr_events(events):
        ...

The view is CSRF-exempt (Lettr cannot send a CSRF token; authenticity comes
from the configured credentials) and answers as described in
``lettr_async.events.WebhookReceiver``. A coroutine handler gets an async
view, which Django runs natively under ASGI.
"""

from __future__ import annotations

import hashlib
import inspect
import threading
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol, overload

try:
    from django.core.cache import caches
    from django.core.cache.backends.dummy import DummyCache
    from django.core.cache.backends.locmem import LocMemCache
    from django.http import HttpRequest, HttpResponse, JsonResponse
except ModuleNotFoundError as exc:  # a core install: say which extra, not just "no django"
    if exc.name != "django" and not (exc.name or "").startswith("django."):
        raise
    raise ModuleNotFoundError(
        "lettr_async.events.django needs Django, the optional 'django' extra: "
        "pip install 'lettr-async[django]'",
        name=exc.name,
    ) from exc

from lettr_async.events._dedup import DEFAULT_DEDUP_TTL, DedupStore
from lettr_async.events._receiver import (
    AsyncHandler,
    Handler,
    SyncHandler,
    WebhookReceiver,
    WebhookResponse,
)
from lettr_async.events._verify import DEFAULT_TOLERANCE

__all__ = [
    "AsyncWebhookView",
    "DjangoCacheDedupStore",
    "PerProcessCacheWarning",
    "WebhookView",
    "lettr_webhook",
    "webhook_view",
]


class WebhookView(Protocol):
    """The synchronous Django view ``webhook_view`` returns.

    Typed so ``view.lettr_receiver`` (the ``WebhookReceiver`` behind the view,
    e.g. to reach its ``dedup_store``) type-checks.
    """

    csrf_exempt: bool
    lettr_receiver: WebhookReceiver

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Answer one delivery."""
        ...


class AsyncWebhookView(Protocol):
    """The async Django view ``webhook_view`` returns for a coroutine handler."""

    csrf_exempt: bool
    lettr_receiver: WebhookReceiver

    def __call__(self, request: HttpRequest) -> Awaitable[HttpResponse]:
        """Answer one delivery."""
        ...


class PerProcessCacheWarning(RuntimeWarning):
    """``DjangoCacheDedupStore`` sits on a cache that other processes cannot see.

    With Django's default ``LocMemCache`` every worker process keeps its own
    memory, so under ``gunicorn -w 4`` one event can be processed four times;
    ``DummyCache`` remembers nothing at all. Emitted once per process and
    cache alias.
    """


_PER_PROCESS_BACKENDS: tuple[tuple[type[Any], str], ...] = (
    (LocMemCache, "keeps its entries in each process's own memory"),
    (DummyCache, "stores nothing, so no duplicate is ever detected"),
)
_warned_aliases: set[str] = set()
_warned_lock = threading.Lock()


def _warn_if_per_process(alias: str, cache: object) -> None:
    problem = next((text for cls, text in _PER_PROCESS_BACKENDS if isinstance(cache, cls)), None)
    if problem is None:
        return
    with _warned_lock:
        if alias in _warned_aliases:
            return
        _warned_aliases.add(alias)
    warnings.warn(
        f"DjangoCacheDedupStore: the {alias!r} cache ({type(cache).__name__}) {problem}: "
        "with several worker processes (gunicorn -w 4) a duplicate delivery is processed "
        "once per process. Configure a shared cache (Redis, Memcached, database) for it, "
        "or pass warn_per_process=False when only one process receives webhooks.",
        PerProcessCacheWarning,
        stacklevel=4,
    )


class DjangoCacheDedupStore:
    """A ``DedupStore`` on a Django cache, shared by every process using it.

    Why: the default in-memory store forgets on restart and is per process.
    ``cache.add`` is atomic on Django's shared cache backends (Redis,
    Memcached, database), so concurrent duplicate deliveries are still
    processed once. Keys are hashed so any event id makes a valid cache key.
    Calls are synchronous, also from async views.

    The cache must be shared between processes: on first use the store
    emits a ``PerProcessCacheWarning`` (once per process and alias) when the
    alias is a ``LocMemCache`` (Django's default) or a ``DummyCache``.
    ``warn_per_process=False`` silences it for single-process deployments
    and tests.
    """

    __slots__ = ("_alias", "_checked", "_prefix", "_timeout")

    def __init__(
        self,
        alias: str = "default",
        *,
        timeout: float = DEFAULT_DEDUP_TTL,
        key_prefix: str = "lettr-webhook-event:",
        warn_per_process: bool = True,
    ) -> None:
        self._alias = alias
        self._timeout = timeout
        self._prefix = key_prefix
        # Checked on first use, not here: settings (and CACHES) may change until then.
        self._checked = not warn_per_process

    def _cache(self) -> Any:
        cache = caches[self._alias]
        if not self._checked:
            self._checked = True
            _warn_if_per_process(self._alias, cache)
        return cache

    def _key(self, event_id: str) -> str:
        return self._prefix + hashlib.sha256(event_id.encode("utf-8")).hexdigest()

    def add(self, event_id: str) -> bool:
        """Claim ``event_id`` with ``cache.add``; ``False`` if already claimed."""
        return bool(self._cache().add(self._key(event_id), 1, timeout=self._timeout))

    def discard(self, event_id: str) -> None:
        """Forget ``event_id`` so a retried delivery is processed."""
        self._cache().delete(self._key(event_id))

    def __repr__(self) -> str:
        return f"DjangoCacheDedupStore(alias={self._alias!r}, timeout={self._timeout})"


def _is_async(handler: Handler) -> bool:
    # Also catches objects whose __call__ is a coroutine function.
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        type(handler).__call__
    )


def _to_django(response: WebhookResponse) -> HttpResponse:
    return JsonResponse(dict(response.body), status=response.status, headers=response.headers)


@overload
def webhook_view(
    handler: AsyncHandler,
    *,
    basic_auth: tuple[str, str] | None = ...,
    bearer_token: str | None = ...,
    signing_secret: str | bytes | None = ...,
    dedup_store: DedupStore | Literal[False] | None = ...,
    tolerance: float = ...,
) -> AsyncWebhookView: ...
@overload
def webhook_view(
    handler: SyncHandler,
    *,
    basic_auth: tuple[str, str] | None = ...,
    bearer_token: str | None = ...,
    signing_secret: str | bytes | None = ...,
    dedup_store: DedupStore | Literal[False] | None = ...,
    tolerance: float = ...,
) -> WebhookView: ...
def webhook_view(
    handler: Handler,
    *,
    basic_auth: tuple[str, str] | None = None,
    bearer_token: str | None = None,
    signing_secret: str | bytes | None = None,
    dedup_store: DedupStore | Literal[False] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> WebhookView | AsyncWebhookView:
    """Build a CSRF-exempt, POST-only Django view that feeds deliveries to ``handler``.

    Why: a correct receiver (auth, 400 on garbage, de-duplication, 500 so
    Lettr retries when the handler fails) in one line. ``handler`` gets the
    list of new events; a coroutine function gets an async view. Options are
    those of ``WebhookReceiver``; ``dedup_store`` may be a
    ``DjangoCacheDedupStore`` to de-duplicate across processes.
    """
    receiver = WebhookReceiver(
        basic_auth=basic_auth,
        bearer_token=bearer_token,
        signing_secret=signing_secret,
        dedup_store=dedup_store,
        tolerance=tolerance,
    )
    view: Any
    if _is_async(handler):

        async def async_view(request: HttpRequest) -> HttpResponse:
            outcome = await receiver.handle_async(
                request.method or "", request.headers, request.body, handler
            )
            return _to_django(outcome)

        view = async_view
    else:
        sync_handler: SyncHandler = handler

        def sync_view(request: HttpRequest) -> HttpResponse:
            outcome = receiver.handle(
                request.method or "", request.headers, request.body, sync_handler
            )
            return _to_django(outcome)

        view = sync_view
    # What django.views.decorators.csrf.csrf_exempt sets; set directly because
    # Django 4.2's decorator wraps async views in a sync function.
    view.csrf_exempt = True
    view.lettr_receiver = receiver
    # Name the view after the handler, for URL reversing by dotted path and logs.
    for attribute in ("__name__", "__qualname__", "__module__", "__doc__"):
        value = getattr(handler, attribute, None)
        if isinstance(value, str):
            setattr(view, attribute, value)
    return view  # type: ignore[no-any-return]


def lettr_webhook(
    *,
    basic_auth: tuple[str, str] | None = None,
    bearer_token: str | None = None,
    signing_secret: str | bytes | None = None,
    dedup_store: DedupStore | Literal[False] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Callable[[Handler], Any]:
    """Decorator form of ``webhook_view``: turns an event handler into the view.

    Why: reads naturally in ``views.py``; the decorated name is the view to
    route in ``urls.py``.
    """

    def decorate(handler: Handler) -> Any:
        return webhook_view(
            handler,
            basic_auth=basic_auth,
            bearer_token=bearer_token,
            signing_secret=signing_secret,
            dedup_store=dedup_store,
            tolerance=tolerance,
        )

    return decorate
