"""Scenario 2: calls in flight. ``AsyncLettr`` with 1/8/32/128 worker tasks,
``lettr_sync.Lettr`` shared by 1/8/32 threads, Lettr's SDK with one client
per thread (8 and 32 threads). Requests per second against the fast server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._config import Config
from ._contenders import (
    AiohttpFloor,
    AsyncLettrContender,
    Contender,
    LettrSDK,
    SyncFacade,
    lettr_sdk_available,
    per_call_round,
)
from ._servers import fast_server
from ._stats import interleave

__all__ = ["run"]

ASYNC_IN_FLIGHT = (1, 8, 32, 128)
SYNC_THREADS = (1, 8, 32)
SDK_THREADS = (8, 32)


def async_label(in_flight: int) -> str:
    return f"AsyncLettr, {in_flight} in flight"


def run(config: Config, progress: Callable[[str], None]) -> dict[str, Any]:
    """Run the scenario and return its JSON section."""
    n = config.concurrency_calls
    with fast_server() as url:
        contenders: dict[str, Contender] = {}
        try:
            for k in ASYNC_IN_FLIGHT:
                contenders[async_label(k)] = AsyncLettrContender(url, in_flight=k)
            contenders["bare aiohttp (floor), 32 in flight"] = AiohttpFloor(url, in_flight=32)
            for t in SYNC_THREADS:
                contenders[f"lettr_sync.Lettr, {t} thread(s) sharing it"] = SyncFacade(url, t)
            if lettr_sdk_available():
                for t in SDK_THREADS:
                    contenders[f"lettr (Lettr's SDK), {t} threads, client each"] = LettrSDK(url, t)
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
        "description": f"{n} webhooks.get calls per round, spread over tasks or threads",
        "calls_per_round": n,
        "rounds": config.rounds,
        "contenders": results,
    }
