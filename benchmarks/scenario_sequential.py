"""Scenario 1: sequential ``webhooks.get`` x N, one call at a time, per client.

Requests per second and client CPU microseconds per call, against the fast
server. Lettr's SDK, ``lettr_sync.Lettr``, ``AsyncLettr`` awaited one at a
time, and the bare aiohttp floor (one session, ``get`` + ``resp.json()``);
plus the cost of the thread hop alone, which bounds what any sync facade
over a shared background loop can reach.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._baseline import load_sync_client
from ._config import Config
from ._contenders import (
    AiohttpFloor,
    AsyncLettrContender,
    Contender,
    LettrSDK,
    SyncFacade,
    ThreadHop,
    lettr_sdk_available,
    per_call_round,
)
from ._servers import fast_server
from ._stats import interleave

__all__ = [
    "AIOHTTP_FLOOR",
    "ASYNC_LETTR",
    "LETTR_SDK",
    "LETTR_SYNC",
    "LETTR_SYNC_BASELINE",
    "THREAD_HOP",
    "run",
]

LETTR_SDK = "lettr (Lettr's SDK, httpx)"
LETTR_SYNC = "lettr_sync.Lettr"
ASYNC_LETTR = "AsyncLettr"
AIOHTTP_FLOOR = "bare aiohttp (floor)"
THREAD_HOP = "thread hop alone (no request)"
LETTR_SYNC_BASELINE = "lettr_sync.Lettr (--sync-baseline build)"


def run(config: Config, progress: Callable[[str], None]) -> dict[str, Any]:
    """Run the scenario and return its JSON section."""
    n = config.sequential_calls
    with fast_server() as url:
        contenders: dict[str, Contender] = {}
        try:
            if lettr_sdk_available():
                contenders[LETTR_SDK] = LettrSDK(url)
            contenders[LETTR_SYNC] = SyncFacade(url)
            if config.sync_baseline is not None:
                baseline = load_sync_client(config.sync_baseline)
                contenders[LETTR_SYNC_BASELINE] = SyncFacade(url, client_class=baseline)
            contenders[ASYNC_LETTR] = AsyncLettrContender(url)
            contenders[AIOHTTP_FLOOR] = AiohttpFloor(url)
            contenders[THREAD_HOP] = ThreadHop()
            results = interleave(
                {name: per_call_round(c, n, url) for name, c in contenders.items()},
                rounds=config.rounds,
                warmup=config.warmup,
                progress=progress,
            )
        finally:
            for contender in contenders.values():
                contender.close()
    return {
        "description": f"sequential webhooks.get x {n} per round, one call at a time",
        "calls_per_round": n,
        "rounds": config.rounds,
        "contenders": results,
    }
