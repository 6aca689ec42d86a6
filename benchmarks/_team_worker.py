"""One worker process of a team, for the multi-process rate-limit tests and benchmark.

Run as ``python benchmarks/_team_worker.py`` (from any directory: it imports
only ``lettr_async``). Reads a
JSON job on stdin, prints a JSON report on stdout: how many items succeeded,
which failed and why, the client-side send times (epoch seconds), the
slots the shared store granted (on its clock) and the warnings the SDK logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from typing import Any

from lettr_async import AsyncLettr, LettrError, RetryPolicy
from lettr_async.ratelimit import Slot, TakeRequest
from lettr_async.ratelimit._limiter import Lane


class _Collect(logging.Handler):
    """Keeps the SDK's warnings, and its per-response debug lines (to count 429s)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []
        self.debug: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.messages.append(record.getMessage())
        elif " -> " in str(record.msg):
            self.debug.append(record.getMessage())


async def run(job: dict[str, Any]) -> dict[str, Any]:
    """Do the job: ``update`` every id with the bulk helper, or ``get`` one id interactively."""
    collect = _Collect()
    sdk_logger = logging.getLogger("lettr_async")
    sdk_logger.addHandler(collect)
    sdk_logger.setLevel(logging.DEBUG)
    options: dict[str, Any] = {"rate_limit_store": job.get("store") or None}
    if not job.get("defaults"):
        # Tests: quick retries, so a 429 costs little time; the benchmark uses defaults.
        options.update(
            retry_policy=RetryPolicy(backoff_initial=0.05, backoff_max=0.5, max_retry_after=5.0),
            max_retries=job.get("max_retries", 5),
            timeout=job.get("timeout", 30.0),
        )
    client = AsyncLettr(job["api_key"], base_url=job["base_url"], **options)
    start_at = job.get("start_at")
    if start_at is not None:
        # Load what the first call would import lazily (aiohttp, the bulk
        # helper, the store's module), so the clock measures pacing, not imports.
        import aiohttp  # noqa: F401

        import lettr_async._transport
        import lettr_async.bulk
        import lettr_async.ratelimit._redis
        import lettr_async.ratelimit._sqlite  # noqa: F401

        if str(job.get("store") or "").startswith(("redis", "unix")):
            import redis.asyncio  # noqa: F401

        # Benchmark: every process starts together, after all have imported.
        await asyncio.sleep(max(0.0, start_at - time.time()))
    sent: list[float] = []
    limiter = client._state.limiter
    acquire = limiter.acquire

    async def recording_acquire(lane: Lane, *, deadline: float | None = None) -> float:
        waited = await acquire(lane, deadline=deadline)
        sent.append(time.time())
        return waited

    limiter.acquire = recording_acquire  # type: ignore[method-assign]
    granted: list[float] = []  # booked slot starts, on the shared store's clock
    waits: list[float] = []  # and how far ahead of the store's "now" each was booked
    store = limiter.store
    if store is not None:
        take = store.take

        async def recording_take(request: TakeRequest) -> Slot:
            slot = await take(request)
            if slot.booked:
                granted.append(slot.start)
                waits.append(slot.wait)
            return slot

        store.take = recording_take  # type: ignore[method-assign]
    failed: list[str] = []
    first_waits: list[float | None] = []
    ok = 0
    started = time.time()
    async with client:
        if job["mode"] == "update":
            result = await client.webhooks.update_many(
                {i: {"name": f"{job.get('tag', 'w')}-{i}"} for i in job["ids"]},
                concurrency=job.get("concurrency", 8),
            )
            ok = sum(1 for o in result.outcomes if o.error is None)
            failed = [f"{o.key}: {o.error!r}" for o in result.outcomes if o.error is not None]
        else:
            timeouts = job.get("timeouts") or [None] * len(job["ids"])
            for webhook_id, timeout in zip(job["ids"], timeouts, strict=True):
                booked_before = len(waits)
                try:
                    await client.webhooks.get(webhook_id, timeout=timeout)
                    # The wait the store booked for this get's first slot: its
                    # place in the schedule, whatever the machine's load.
                    first_waits.append(waits[booked_before] if len(waits) > booked_before else None)
                    ok += 1
                except LettrError as exc:
                    failed.append(f"{webhook_id}: {exc!r}")
    return {
        "ok": ok,
        "failed": failed,
        "sent": sent,
        "granted": granted,
        "first_waits": first_waits,
        "started": started,
        "finished": time.time(),
        "warnings": collect.messages,
        "status_429": sum(1 for m in collect.debug if " -> 429 in " in m),
    }


def main() -> None:
    """Read the job from stdin, run it, print the report."""
    job = json.loads(sys.stdin.read())
    print(json.dumps(asyncio.run(run(job))))


if __name__ == "__main__":
    main()
