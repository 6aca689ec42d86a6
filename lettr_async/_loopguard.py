"""Connections of one event loop, closed when that loop shuts down, never by a pending task.

Pooled connections (the client's aiohttp sessions, the Redis rate store's
pool) belong to the loop that opened them and must be closed inside it,
while it still runs, or they warn when collected. A pending task waiting to
close them would itself warn ("Task was destroyed but it is pending!") and
leave them unclosed when a user runs ``loop.run_until_complete(...)`` and
``loop.close()`` by hand, without ``aclose()``.

So the guardian is an async generator, not a task: the loop's asyncgen
hooks register it on its first step, ``asyncio.run`` (and anyone calling
``loop.shutdown_asyncgens()``) closes it while the loop is alive, and its
``finally`` closes the connections. A hand-managed loop closed without that
leaves nothing pending behind; its connections are released without I/O
(their sockets closed) when the owner notices (use from a new loop,
``aclose()``) or the guard is collected. Nothing is ever scheduled from
``__del__``. Connections of a loop from a parent process (after
``os.fork()``) or of a stopped, unclosed loop are kept referenced, bounded
(``ORPHANS``), so sockets shared with the parent are never closed here.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from typing import Any

__all__ = ["ORPHANS", "LoopGuard", "close_dead_transport"]


class LoopGuard:
    """Closes one loop's connections as that loop shuts down, or without I/O once it is closed.

    Create it inside the running loop that owns them. ``close`` closes them
    in that loop; ``release`` closes their sockets synchronously for a loop
    that is already closed (no I/O, nothing scheduled). Neither may refer
    back to the guard's owner: with no reference cycle through here, the
    guard's ``__del__`` runs before the connections' own finalisers would
    warn.
    """

    def __init__(self, close: Callable[[], Awaitable[None]], release: Callable[[], None]) -> None:
        """Start the guardian in the running loop, which registers it for shutdown."""
        self.loop = asyncio.get_running_loop()
        self._flags = _GuardFlags()
        self._guardian = _guard(close, release, self._flags)
        _drive(self._guardian.__anext__())  # registers it with the running loop

    @property
    def finished(self) -> bool:
        """True once the connections are closed or released: the owner must open new ones."""
        return self._flags.finished

    async def close(self) -> None:
        """Close the connections from inside their own loop."""
        await self._guardian.aclose()

    def abandon(self) -> None:
        """Finish the guardian without its loop: release everything, no I/O."""
        if not self._flags.finished:
            self._flags.abandoned = True
            _drive(self._guardian.aclose())

    def drop(self) -> None:
        """Forget connections whose loop is gone or elsewhere, without waking that loop.

        After ``os.fork()`` the sockets are shared with the parent, and a loop
        that is merely stopped (or running in another thread) may still use
        or close them: those are kept referenced (bounded, ``ORPHANS``) so no
        finaliser closes their sockets. Those of a loop closed in this
        process are released.
        """
        if self._flags.finished:
            return
        if self._flags.pid != os.getpid() or not self.loop.is_closed():
            ORPHANS.append(self)
            return
        self.abandon()

    def __del__(self) -> None:
        # Only for a loop that is already closed: nothing is scheduled, sockets
        # of a dead loop are closed synchronously. A live loop's asyncgen
        # finaliser closes the connections itself.
        try:
            if self._flags.finished or self._flags.pid != os.getpid():
                return
            if self.loop.is_closed():
                self.abandon()
        except Exception:  # noqa: S110 - interpreter shutdown: modules may be gone
            pass


ORPHANS: collections.deque[LoopGuard] = collections.deque(maxlen=16)
"""Guards of a parent process's loop, or of a loop not closed: their sockets are left alone."""


class _GuardFlags:
    """State the guardian shares with its ``LoopGuard`` (kept apart: no cycle)."""

    def __init__(self) -> None:
        self.finished = False
        self.abandoned = False
        self.pid = os.getpid()


async def _guard(
    close: Callable[[], Awaitable[None]], release: Callable[[], None], flags: _GuardFlags
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        flags.finished = True
        if flags.abandoned:
            release()
        else:
            await close()


def _drive(step: Coroutine[Any, Any, Any] | Awaitable[Any]) -> None:
    """Run an awaitable that completes without suspending, synchronously."""
    coro: Any = step
    try:
        coro.send(None)
    except StopIteration:
        return
    coro.close()  # pragma: no cover - the guardian never suspends here
    raise RuntimeError("lettr_async loop guardian suspended unexpectedly")


def close_dead_transport(transport: Any) -> None:
    """Close an asyncio transport's socket synchronously, its loop being closed.

    ``transport.abort()`` cannot schedule its cleanup on a closed loop, so
    this calls asyncio's private ``_call_connection_lost`` itself; each step
    is guarded, so a future asyncio change degrades to a ResourceWarning,
    never an exception.
    """
    if transport is None:
        return
    inner = getattr(getattr(transport, "_ssl_protocol", None), "_transport", None)
    for candidate in (transport, inner):
        if candidate is None or getattr(candidate, "_sock", None) is None:
            continue
        with contextlib.suppress(RuntimeError):
            candidate.abort()  # marks it lost; scheduling the rest fails on a closed loop
        finish = getattr(candidate, "_call_connection_lost", None)
        if finish is not None and getattr(candidate, "_sock", None) is not None:
            with contextlib.suppress(Exception):
                finish(None)
