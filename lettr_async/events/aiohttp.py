"""Receive Lettr webhook deliveries in an ``aiohttp.web`` application.

Usage::

    from aiohttp import web
    from lettr_async.events.aiohttp import webhook_handler

    async def handle(events):
        for event in events:
            ...

    app = web.Application()
    app.router.add_post("/hooks/lettr", webhook_handler(handle, basic_auth=("lettr", "s3cret")))

Answers as described in ``lettr_async.events.WebhookReceiver``. The body is
read with the application's ``client_max_size`` (1 MiB by default): raise it
if your deliveries are larger.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from aiohttp import web

from lettr_async.events._dedup import DedupStore
from lettr_async.events._receiver import Handler, WebhookReceiver
from lettr_async.events._verify import DEFAULT_TOLERANCE

__all__ = ["webhook_handler"]


def webhook_handler(
    handler: Handler,
    *,
    basic_auth: tuple[str, str] | None = None,
    bearer_token: str | None = None,
    signing_secret: str | bytes | None = None,
    dedup_store: DedupStore | Literal[False] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Build an ``aiohttp.web`` request handler that feeds deliveries to ``handler``.

    Why: a correct receiver (auth, 400 on garbage, de-duplication, 500 so
    Lettr retries when the handler fails) for aiohttp servers in one line.
    ``handler`` may be a coroutine function or a quick synchronous callable
    (it runs on the event loop). Options are those of ``WebhookReceiver``.
    """
    receiver = WebhookReceiver(
        basic_auth=basic_auth,
        bearer_token=bearer_token,
        signing_secret=signing_secret,
        dedup_store=dedup_store,
        tolerance=tolerance,
    )

    async def lettr_webhook(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        outcome = await receiver.handle_async(request.method, request.headers, body, handler)
        return web.json_response(dict(outcome.body), status=outcome.status, headers=outcome.headers)

    return lettr_webhook
