"""Serve an aiohttp runner on a listening socket of our own, and stop it without a leak.

FakeLettr and the test suite's other loopback servers (a proxy, a webhook
receiver) all need the same shutdown order, so it lives here once.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Protocol

from aiohttp import web

__all__ = ["LoopbackSite", "stop_accepting"]


class _Listener(Protocol):
    """What ``stop_accepting`` needs of a listening socket (a ``socket`` or asyncio's wrapper)."""

    def fileno(self) -> int:
        """The listening socket's file descriptor."""
        ...


async def stop_accepting(listener: _Listener) -> None:
    """Stop accepting, then let every connection already accepted finish its set-up.

    asyncio accepts a connection in the listener's reader callback but builds
    its transport in a task that runs one loop iteration later. Were the
    listener closed in between (a client connecting in the very iteration in
    which the shutdown begins), building that transport fails inside asyncio
    (``Server._attach`` asserts the server is still open), the error is
    dropped, and the accepted socket stays open with nothing left to close
    it until garbage collection warns about it, in whatever code runs then.
    So: no new accepts, then two loop iterations (the ready queue is FIFO:
    the pending accept tasks run, then their ``connection_made`` callbacks),
    and only then the shutdown, which by now knows every connection.
    """
    with contextlib.suppress(NotImplementedError):  # loops without readers (proactor)
        asyncio.get_running_loop().remove_reader(listener.fileno())
    for _ in range(2):
        await asyncio.sleep(0)


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket we own, so the shutdown can stop accepting before closing it."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    return socket.create_server((host, port), family=family, backlog=128)


class LoopbackSite:
    """A runner on a listening socket of its own; ``stop`` closes every connection it accepted."""

    def __init__(self, runner: web.BaseRunner, listener: socket.socket) -> None:
        """Wrap a runner that already serves on ``listener``; use ``LoopbackSite.start``."""
        self.runner = runner
        self.listener = listener
        """The listening socket (closed by ``stop``)."""
        self.port: int = int(listener.getsockname()[1])
        """The port the listener is bound to (the one asked for, or the one the system chose)."""

    @classmethod
    async def start(cls, runner: web.BaseRunner, host: str, port: int = 0) -> LoopbackSite:
        """Set ``runner`` up and serve it on ``host:port``; on failure nothing stays open."""
        await runner.setup()
        listener: socket.socket | None = None
        try:
            listener = _listen(host, port)
            await web.SockSite(runner, listener).start()
        except BaseException:
            if listener is not None:
                listener.close()
            await runner.cleanup()
            raise
        return cls(runner, listener)

    async def stop(self) -> None:
        """Stop accepting, let accepted connections finish their set-up, then shut down."""
        await stop_accepting(self.listener)
        await self.runner.cleanup()
