"""Run a FakeLettr (or any server with ``start``/``stop``) on its own loop in a daemon thread.

Synchronous code (the sync facade, Django views, plain ``requests`` users)
cannot ``await fake.start()``; this gives them a live server for a ``with``
block, and tears it down completely so no thread or socket leaks.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

__all__ = ["run_in_thread"]

_START_TIMEOUT = 30.0


class _Server(Protocol):
    """What the thread needs of a server: typed here so ``_server`` can import this module
    (for ``FakeLettr.in_thread``) without this one importing ``_server`` back."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


_S = TypeVar("_S", bound=_Server)


@contextlib.contextmanager
def run_in_thread(factory: Callable[[], _S]) -> Iterator[_S]:
    """Start ``factory()`` in a new thread's loop, yield it, then stop and join.

    Errors raised while starting (say, the port is taken) are re-raised here.
    """
    fake = factory()
    ready = threading.Event()
    failure: list[BaseException] = []
    holder: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}

    async def serve() -> None:
        stopping = asyncio.Event()
        try:
            await fake.start()
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            return
        holder["loop"] = (asyncio.get_running_loop(), stopping)
        ready.set()
        try:
            await stopping.wait()
        finally:
            await fake.stop()

    def main() -> None:
        asyncio.run(serve())

    thread = threading.Thread(target=main, name="FakeLettr", daemon=True)
    thread.start()
    if not ready.wait(_START_TIMEOUT):  # pragma: no cover - only on a wedged machine
        raise RuntimeError("FakeLettr thread did not start")
    if failure:
        thread.join()
        raise failure[0]
    loop, stopping = holder["loop"]
    try:
        yield fake
    finally:
        loop.call_soon_threadsafe(stopping.set)
        thread.join()
