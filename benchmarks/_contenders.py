"""The clients under test, each able to make ``n`` ``webhooks.get`` calls on demand.

Every contender owns its client (and, for the async ones, its event loop)
for the whole scenario, so keep-alive connections and lazy setup are paid
once, in the warm-up round. ``run(n)`` returns wall and process CPU
seconds; the CPU includes every thread of this process (the sync facade's
portal thread, worker threads), never the server's, which is another process.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import aiohttp

from ._fastserver import WEBHOOK_ID
from ._servers import API_KEY, Server

__all__ = [
    "AiohttpFloor",
    "AsyncLettrContender",
    "Contender",
    "LettrSDK",
    "SyncFacade",
    "lettr_sdk_available",
]


def lettr_sdk_available() -> bool:
    """Whether Lettr's own SDK (the ``bench`` extra) is importable."""
    try:
        import lettr  # noqa: F401
    except ImportError:
        return False
    return True


class Contender:
    """One client; ``run(n)`` makes ``n`` calls and returns ``(wall s, cpu s)``."""

    def run(self, n: int) -> tuple[float, float]:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        self._calls(n)
        return time.perf_counter() - wall0, time.process_time() - cpu0

    def _calls(self, n: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release the client."""


def _split(n: int, parts: int) -> list[int]:
    base, extra = divmod(n, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _in_threads(threads: int, pool: ThreadPoolExecutor, n: int, job: Callable[[int], None]) -> None:
    futures = [pool.submit(job, share) for share in _split(n, threads)]
    wait(futures)
    for future in futures:
        future.result()


# -- Lettr's own SDK (httpx, synchronous) -------------------------------------------


class LettrSDK(Contender):
    """``lettr.Lettr(...).webhooks.get``; with threads, one client per thread."""

    def __init__(self, base_url: str, threads: int = 1) -> None:
        import lettr

        self._factory: Callable[[], Any] = lambda: lettr.Lettr(API_KEY, base_url=base_url)
        self._threads = threads
        self._clients: list[Any] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(threads) if threads > 1 else None

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._factory()
            with self._lock:
                self._clients.append(client)
        return client

    def _loop(self, n: int) -> None:
        get = self._client().webhooks.get
        for _ in range(n):
            get(WEBHOOK_ID)

    def _calls(self, n: int) -> None:
        if self._pool is None:
            self._loop(n)
        else:
            _in_threads(self._threads, self._pool, n, self._loop)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        for client in self._clients:
            client.close()


# -- lettr_sync.Lettr (our sync facade) ---------------------------------------------


class SyncFacade(Contender):
    """One ``lettr_sync.Lettr`` (or another build's ``client_class``) shared by ``threads``."""

    def __init__(self, base_url: str, threads: int = 1, client_class: Any = None) -> None:
        if client_class is None:
            import lettr_sync

            client_class = lettr_sync.Lettr
        self._client = client_class(API_KEY, base_url=base_url, rate_limit=None)
        self._threads = threads
        self._pool = ThreadPoolExecutor(threads) if threads > 1 else None

    def _loop(self, n: int) -> None:
        get = self._client.webhooks.get
        for _ in range(n):
            get(WEBHOOK_ID)

    def _calls(self, n: int) -> None:
        if self._pool is None:
            self._loop(n)
        else:
            _in_threads(self._threads, self._pool, n, self._loop)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        self._client.close()


class ThreadHop(Contender):
    """No request at all: one no-op coroutine round trip to a background loop.

    The irreducible cost of any sync facade over one shared event loop, taken
    the way ``lettr_sync`` takes it (``anyio.from_thread.run`` with the token of
    a blocking portal's loop, one hop), shown next to the real contenders so
    the facade's overhead can be read off.
    """

    def __init__(self) -> None:
        from anyio.from_thread import start_blocking_portal
        from anyio.lowlevel import current_token

        self._manager = start_blocking_portal()
        portal = self._manager.__enter__()
        self._token = portal.call(current_token)

    @staticmethod
    async def _noop() -> None:
        return None

    def _calls(self, n: int) -> None:
        from anyio.from_thread import run

        noop, token = self._noop, self._token
        for _ in range(n):
            run(noop, token=token)

    def close(self) -> None:
        self._manager.__exit__(None, None, None)


# -- async contenders: a private loop, driven with run_until_complete ---------------


class _AsyncContender(Contender):
    def __init__(self, in_flight: int) -> None:
        self._loop = asyncio.new_event_loop()
        self._in_flight = in_flight

    async def _one(self) -> None:
        raise NotImplementedError

    async def _worker(self, count: int) -> None:
        one = self._one
        for _ in range(count):
            await one()

    async def _all(self, n: int) -> None:
        if self._in_flight == 1:
            await self._worker(n)
            return
        await asyncio.gather(*(self._worker(share) for share in _split(n, self._in_flight)))

    def _calls(self, n: int) -> None:
        self._loop.run_until_complete(self._all(n))

    def _finish(self, closing: Awaitable[None]) -> None:
        self._loop.run_until_complete(closing)
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        self._loop.close()


class AsyncLettrContender(_AsyncContender):
    """``await AsyncLettr.webhooks.get`` with ``in_flight`` fixed worker tasks."""

    def __init__(self, base_url: str, in_flight: int = 1) -> None:
        super().__init__(in_flight)
        from lettr_async import AsyncLettr

        self._client = AsyncLettr(
            API_KEY, base_url=base_url, rate_limit=None, connection_limit=max(100, in_flight)
        )
        self._get = self._client.webhooks.get

    async def _one(self) -> None:
        await self._get(WEBHOOK_ID)

    def close(self) -> None:
        self._finish(self._client.aclose())


class AiohttpFloor(_AsyncContender):
    """The floor: one ``aiohttp.ClientSession``, ``session.get`` then ``await resp.json()``."""

    def __init__(self, base_url: str, in_flight: int = 1) -> None:
        super().__init__(in_flight)
        self._url = f"{base_url}/webhooks/{WEBHOOK_ID}"
        self._headers = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json"}
        self._session: aiohttp.ClientSession | None = None

    async def _one(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.get(self._url, headers=self._headers) as resp:
            await resp.json()

    def close(self) -> None:
        session = self._session
        self._finish(session.close() if session is not None else asyncio.sleep(0))


def per_call_round(contender: Contender, n: int, server: Server) -> Callable[[], dict[str, float]]:
    """One round of ``n`` calls: throughput, wall and CPU per call, and the server's CPU."""

    def one_round() -> dict[str, float]:
        server_cpu = server.cpu_seconds()
        wall, cpu = contender.run(n)
        server_cpu = server.cpu_seconds() - server_cpu
        return {
            "rps": n / wall,
            "us_per_call": 1e6 * wall / n,
            "cpu_us_per_call": 1e6 * cpu / n,
            "server_cpu_us_per_call": 1e6 * server_cpu / n,
        }

    return one_round
