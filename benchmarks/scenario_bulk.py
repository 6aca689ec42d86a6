"""Scenario 3: ``update_many`` of N webhooks against FakeLettr limited to R requests/s.

FakeLettr runs as a subprocess (``--seed N --rate-limit R``). Each round
uses a fresh client with the default settings (it learns the budget from
``X-RateLimit-*``), starts at the beginning of a server window, and is
timed against the ideal N / R seconds. 429s and retries are counted on the
client side from the ``lettr_async`` DEBUG log: every response is logged as
``"<what> -> <status> in <ms> ms"`` and every retry as ``"... retrying in"``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._config import Config
from ._servers import API_KEY, fake_lettr
from ._stats import interleave

if TYPE_CHECKING:
    from lettr_async import WebhookUpdateFields

__all__ = ["ASYNC_BULK", "SYNC_BULK", "run"]

ASYNC_BULK = "AsyncLettr.webhooks.update_many"
SYNC_BULK = "lettr_sync.Lettr.webhooks.update_many"


class _Counter(logging.Handler):
    """Counts responses by status, and retries, from the ``lettr_async`` log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.reset()

    def reset(self) -> None:
        self.responses = 0
        self.status_429 = 0
        self.retries = 0
        self.retries_after_429 = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s -> %d in %.1f ms" and isinstance(record.args, tuple):
            self.responses += 1
            if record.args[1] == 429:
                self.status_429 += 1
        elif "retrying" in str(record.msg):
            self.retries += 1
            if "HTTP 429" in record.getMessage():
                self.retries_after_429 += 1


async def _ids(base_url: str) -> list[str]:
    from lettr_async import AsyncLettr

    async with AsyncLettr(API_KEY, base_url=base_url, rate_limit=None) as client:
        return [webhook.id for webhook in await client.webhooks.list()]


def _wait_for_fresh_window(config: Config) -> None:
    """Sleep into the next whole Unix second: FakeLettr's windows are aligned to them.

    Not in a ``--quick`` smoke run, whose numbers are not compared.
    """
    if not config.quick:
        time.sleep(1.02 - (time.time() % 1.0))


def run(config: Config, progress: Callable[[str], None]) -> dict[str, Any]:
    """Run the scenario and return its JSON section."""
    n, limit = config.bulk_webhooks, config.bulk_rate_limit
    ideal = n / limit
    counter = _Counter()
    logger = logging.getLogger("lettr_async")
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        with fake_lettr(seed=n, rate_limit=limit) as url:
            ids = asyncio.run(_ids(url))[:n]
            round_number = [0]

            def updates() -> dict[str, WebhookUpdateFields]:
                round_number[0] += 1
                return {wid: {"name": f"Bulk round {round_number[0]} {wid}"} for wid in ids}

            def finish(wall: float, failed: int) -> dict[str, float]:
                return {
                    "wall_s": wall,
                    "ratio_to_ideal": wall / ideal,
                    "responses": counter.responses,
                    "http_429": counter.status_429,
                    "retries": counter.retries,
                    "retries_after_429": counter.retries_after_429,
                    "failed": failed,
                }

            def async_round() -> dict[str, float]:
                from lettr_async import AsyncLettr

                batch = updates()

                async def go() -> tuple[float, int]:
                    async with AsyncLettr(API_KEY, base_url=url) as client:
                        started = time.perf_counter()
                        result = await client.webhooks.update_many(batch)
                        return time.perf_counter() - started, len(result.failed)

                _wait_for_fresh_window(config)
                counter.reset()
                wall, failed = asyncio.run(go())
                return finish(wall, failed)

            def sync_round() -> dict[str, float]:
                import lettr_sync

                batch = updates()
                _wait_for_fresh_window(config)
                counter.reset()
                with lettr_sync.Lettr(API_KEY, base_url=url) as client:
                    started = time.perf_counter()
                    result = client.webhooks.update_many(batch)
                    wall = time.perf_counter() - started
                return finish(wall, len(result.failed))

            results = interleave(
                {ASYNC_BULK: async_round, SYNC_BULK: sync_round},
                rounds=config.bulk_rounds,
                warmup=0,
                progress=progress,
            )
    finally:
        logger.removeHandler(counter)
        logger.setLevel(old_level)
    return {
        "description": f"update_many of {n} webhooks, server limit {limit}/s (FakeLettr)",
        "webhooks": n,
        "server_rate_limit": limit,
        "ideal_s": ideal,
        "rounds": config.bulk_rounds,
        "contenders": results,
    }
