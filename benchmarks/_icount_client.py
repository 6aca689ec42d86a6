"""The client process of ``benchmarks.instructions``: warm up, then make N ``webhooks.get`` calls.

Run as ``python -m benchmarks._icount_client CONTENDER BASE_URL WARMUP CALLS``;
prints one JSON line ``{"cpu_s": ..., "decoder": ...}`` (process CPU of the measured
calls; the module of the JSON decoder lettr_async used, null if not imported).
Under valgrind the harness runs it twice, with ``CALLS`` 0 and N, and
divides the difference in instructions by N, so start-up, imports and the
warm-up cancel out. Nothing here may depend on the number of calls except
the loop itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from ._fastserver import WEBHOOK_ID
from ._servers import API_KEY

__all__ = ["CONTENDERS", "main"]

_Get = Callable[[], Awaitable[object]]


def _measure(warmup: int, calls: int, one: Callable[[], object]) -> float:
    for _ in range(warmup):
        one()
    cpu0 = time.process_time()
    for _ in range(calls):
        one()
    return time.process_time() - cpu0


async def _measure_async(warmup: int, calls: int, get: _Get) -> float:
    for _ in range(warmup):
        await get()
    cpu0 = time.process_time()
    for _ in range(calls):
        await get()
    return time.process_time() - cpu0


async def _floor(base_url: str, warmup: int, calls: int) -> float:
    import aiohttp

    url = f"{base_url}/webhooks/{WEBHOOK_ID}"
    headers = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json"}
    async with aiohttp.ClientSession(headers=headers) as session:

        async def get() -> object:
            async with session.get(url) as resp:
                return json.loads(await resp.read())

        return await _measure_async(warmup, calls, get)


def _async_lettr(**options: Any) -> Callable[[str, int, int], Coroutine[Any, Any, float]]:
    async def run(base_url: str, warmup: int, calls: int) -> float:
        from lettr_async import AsyncLettr

        async with AsyncLettr(API_KEY, base_url=base_url, **options) as client:
            get = client.webhooks.get
            return await _measure_async(warmup, calls, lambda: get(WEBHOOK_ID))

    return run


def _one_noop_hook() -> Any:
    from lettr_async.hooks import Hooks

    def on_response(_record: object) -> None:
        return None

    return Hooks(on_response=on_response)


async def _hooked(base_url: str, warmup: int, calls: int) -> float:
    return await _async_lettr(rate_limit=None, hooks=_one_noop_hook())(base_url, warmup, calls)


async def _speedups(base_url: str, warmup: int, calls: int) -> float:
    import msgspec  # noqa: F401 - without [speedups], fail here rather than measure plain

    return await _async_lettr(rate_limit=None)(base_url, warmup, calls)


def _sync_facade(base_url: str, warmup: int, calls: int) -> float:
    import lettr_sync

    with lettr_sync.Lettr(API_KEY, base_url=base_url, rate_limit=None) as client:
        get = client.webhooks.get
        return _measure(warmup, calls, lambda: get(WEBHOOK_ID))


def _lettr_sdk(base_url: str, warmup: int, calls: int) -> float:
    import lettr

    client = lettr.Lettr(API_KEY, base_url=base_url)
    try:
        get = client.webhooks.get
        return _measure(warmup, calls, lambda: get(WEBHOOK_ID))
    finally:
        client.close()


_ASYNC: dict[str, Callable[[str, int, int], Coroutine[Any, Any, float]]] = {
    "floor": _floor,
    "async_default": _async_lettr(),
    "async_no_pacing": _async_lettr(rate_limit=None),
    "async_one_hook": _hooked,
    "async_speedups": _speedups,
}
_SYNC: dict[str, Callable[[str, int, int], float]] = {
    "lettr_sync": _sync_facade,
    "lettr_sdk": _lettr_sdk,
}
CONTENDERS: dict[str, str] = {
    "floor": "floor: aiohttp GET + json.loads(await r.read())",
    "async_default": "AsyncLettr, default client (pacing on)",
    "async_no_pacing": "AsyncLettr, rate_limit=None",
    "async_one_hook": "AsyncLettr, rate_limit=None + one no-op on_response hook",
    "lettr_sync": "lettr_sync.Lettr, rate_limit=None",
    "lettr_sdk": "lettr 1.7.0 (Lettr's SDK, httpx)",
    "async_speedups": "AsyncLettr, rate_limit=None, [speedups] (msgspec)",
}
"""Contender key -> the label the report shows, in report order."""
_SPEEDUPS = frozenset({"async_speedups"})
"""Contenders that decode with the ``[speedups]`` extra (lettr_async/_speedups.py)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run one contender; print its CPU seconds for the measured calls as JSON."""
    name, base_url, warmup, calls = argv if argv is not None else sys.argv[1:]
    # lettr_async reads this when first imported (inside the contender): all but
    # async_speedups measure the default install, whether msgspec is here or not.
    os.environ["LETTR_NO_SPEEDUPS"] = "0" if name in _SPEEDUPS else "1"
    if name in _ASYNC:
        cpu = asyncio.run(_ASYNC[name](base_url, int(warmup), int(calls)))
    else:
        cpu = _SYNC[name](base_url, int(warmup), int(calls))
    speedups = sys.modules.get("lettr_async._speedups")
    decoder = None if speedups is None else speedups.loads_body.__module__
    print(json.dumps({"cpu_s": cpu, "decoder": decoder}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
