"""The events tests' Django app (the project's own ``webhook_view``) under a live WSGI server.

Why here: receivers are tested against real senders (``FakeLettr.deliver``
in-process, ``lettr-webhooks trigger`` as a subprocess), and both need the
same app on a real socket, with its recorder and dedup stores fresh.
"""

from __future__ import annotations

import contextlib
import os
import socketserver
import threading
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from lettr_async.events import InMemoryDedupStore


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """wsgiref's server, one thread per request (request threads joined on close)."""


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def django_live_server() -> Iterator[str]:
    """Serve ``tests.events.django_app`` on 127.0.0.1; yield its base URL.

    The recorder is reset and every in-memory dedup store cleared before and
    after, so each test sees only its own deliveries.
    """
    import django
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    from tests.events.django_app import settings as app_settings
    from tests.events.django_app import urls

    if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
        settings.configure(**app_settings.BASE, **app_settings.OVERRIDES)
    django.setup()

    def fresh() -> None:
        urls.recorder.reset()
        for view in urls.VIEWS:
            store = view.lettr_receiver.dedup_store
            if isinstance(store, InMemoryDedupStore):
                store.clear()

    fresh()
    overrides = {**app_settings.OVERRIDES, "ALLOWED_HOSTS": ["127.0.0.1"]}
    with override_settings(**overrides):
        server = make_server(
            "127.0.0.1",
            0,
            WSGIHandler(),
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        thread = threading.Thread(target=server.serve_forever, name="django-live", daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
            fresh()
