"""Connections of one event loop, closed when that loop shuts down, never by a pending task.

Pooled connections (the client's aiohttp sessions, the Redis rate store's
pool) belong to the loop that opened them and can only be closed inside it,
while it runs. A task waiting to close them would itself warn ("Task was
destroyed but it is pending!") when a loop ends without it.

So the guardian is an async generator, a public asyncio mechanism: the
loop's asyncgen hooks register it on its first step, and
``loop.shutdown_asyncgens()`` (called by ``asyncio.run``, ``asyncio.Runner``,
anyio, pytest-asyncio) runs its ``finally`` while the loop is alive. A
hand-managed loop closed without that (or ``aclose()``) leaves them unclosed,
and aiohttp warns: closing a dead loop's sockets would take private internals.

A guard whose loop still exists but is not ours to drive (stopped and not
closed, or inherited from the parent after ``os.fork()``) is kept for that
loop's lifetime (``drop``): its own shutdown closes it, and a fork child
never touches sockets it shares with its parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import types
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, cast

__all__ = ["LoopGuard"]

_KEPT: list[LoopGuard] = []
"""Dropped guards whose loop may still close them; pruned once it is closed."""


class LoopGuard:
    """Closes one loop's connections as that loop shuts down (``shutdown_asyncgens``).

    Create it inside the running loop that owns them. ``close`` must not
    refer back to the guard's owner (no reference cycle through here).
    """

    def __init__(self, close: Callable[[], Awaitable[None]]) -> None:
        """Start the guardian in the running loop, which registers it for shutdown."""
        self.loop = asyncio.get_running_loop()
        self.pid = os.getpid()
        self._guardian = cast("types.AsyncGeneratorType[None, None]", _guard(close))
        step: Any = self._guardian.__anext__()  # first step: the firstiter hook registers it
        with contextlib.suppress(StopIteration):  # it reaches its ``yield`` without suspending
            step.send(None)

    @property
    def finished(self) -> bool:
        """True once the connections were closed: the owner must open new ones."""
        return self._guardian.ag_frame is None

    @property
    def busy_elsewhere(self) -> bool:
        """Open and its loop running (asked from outside it): only that loop may use them."""
        return self.pid == os.getpid() and self.loop.is_running() and not self.finished

    async def close(self) -> None:
        """Close the connections from any loop: in theirs (waiting for it if it runs), or drop."""
        if self.loop is asyncio.get_running_loop():
            await self._close_here()
        elif self.busy_elsewhere:
            closing = asyncio.run_coroutine_threadsafe(self._close_here(), self.loop)
            await asyncio.wrap_future(closing)
        else:
            self.drop()

    async def _close_here(self) -> None:
        await self._guardian.aclose()

    def drop(self) -> None:
        """Forget the connections without touching their loop.

        Those of a closed loop are let go (closed already if that loop ran
        ``shutdown_asyncgens()``); otherwise the loop's own shutdown closes
        them, so they stay referenced as long as the loop exists.
        """
        _KEPT[:] = [guard for guard in _KEPT if guard.alive]
        if self.alive:
            _KEPT.append(self)

    @property
    def alive(self) -> bool:
        """Open, and its loop may still close it (a parent's loop never does so here)."""
        return not self.finished and (self.pid != os.getpid() or not self.loop.is_closed())


async def _guard(close: Callable[[], Awaitable[None]]) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await close()
