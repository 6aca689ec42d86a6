"""A loopback HTTP proxy in front of FakeLettr that loses answers on purpose.

FakeLettr's own ``Fault.drop()`` closes the connection *before* the request
is processed; convergence needs the other case, a request that reached the
server and changed it but whose answer never came back. This proxy forwards
each request for real and, for the next POSTs queued in ``modes``, either
loses the answer (``"lose_answer"``: closes the client connection after the
server processed it) or sends the request a second time and returns the
second answer (``"replay"``: what a retry of a lost create would see, a 409).
"""

from __future__ import annotations

import asyncio
from types import TracebackType

import aiohttp
from aiohttp import web

from lettr_async.testing._loopback import LoopbackSite

__all__ = ["LossyProxy"]

_HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "date", "server"}


class LossyProxy:
    """Forward to ``upstream`` (a FakeLettr base URL); misbehave on queued POSTs."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rsplit("/api", 1)[0]
        self.modes: list[str] = []
        self._site: LoopbackSite | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """The URL to give a client instead of the fake's."""
        return f"http://127.0.0.1:{self.port}/api"

    async def __aenter__(self) -> LossyProxy:
        self._session = aiohttp.ClientSession()
        server = web.Server(self._handle, handler_cancellation=True, access_log=None)
        self._site = await LoopbackSite.start(
            web.ServerRunner(server, shutdown_timeout=1.0), "127.0.0.1"
        )
        self.port = self._site.port
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._site is not None
        assert self._session is not None
        await self._site.stop()
        await self._session.close()

    async def _forward(self, request: web.BaseRequest, body: bytes) -> web.Response:
        assert self._session is not None
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS | {"host"}
        }
        async with self._session.request(
            request.method, self.upstream + request.raw_path, data=body, headers=headers
        ) as answer:
            payload = await answer.read()
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_HEADERS}
            return web.Response(status=answer.status, body=payload, headers=kept)

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        body = await request.read()
        mode = self.modes.pop(0) if request.method == "POST" and self.modes else None
        response = await self._forward(request, body)
        if mode == "replay":
            response = await self._forward(request, body)
        elif mode == "lose_answer":
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError  # the server did the work; the answer is lost
        return response
