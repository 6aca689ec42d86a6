"""Scenario: one team, many processes, one rate budget (issue 12), plus the limiter's cost.

``python -m benchmarks.scenario_multiprocess [--quick] [--out PATH]`` prints
Markdown and writes JSON. Three parts:

1. **Team**: 1, 2, 4 and 8 worker processes (``benchmarks/_team_worker.py``,
   default client settings) together update N webhooks (split evenly)
   against FakeLettr limited to R requests/s, per store: in-process (each
   process paces alone: today's behaviour), SQLite, Redis. All processes
   import first and start at one wall-clock instant; makespan is from that
   instant to the last process's last answer, against the ideal N / R.
   429s are counted by the clients (their DEBUG log), failed items by the
   bulk results.
2. **Cost per acquisition**: sequential bulk acquisitions on a limiter
   whose budget never makes it wait (1,000,000/s), per store: microseconds
   per slot, i.e. the limiter's own overhead including the store round trip.
3. **Cold burst** (issue 10, item 11): 60 concurrent ``get`` calls, timeout
   5 s, from a fresh default client (3/s until it learns) against a server
   allowing 100/s; then the same burst again, warm.

Redis: a ``redis-server``/``valkey-server`` from PATH on a free port; without
one the Redis rows are skipped and say so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._servers import API_KEY, fake_lettr
from .scenario_bulk import _ids

__all__ = ["main", "run"]

WORKER = Path(__file__).with_name("_team_worker.py")


@contextmanager
def _redis() -> Iterator[str | None]:
    binary = shutil.which("valkey-server") or shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    workdir = tempfile.mkdtemp()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(500):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.01)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _team(base_url: str, store: str | None, processes: int, ids: list[str]) -> dict[str, Any]:
    start_at = time.time() + 1.5 + 0.25 * processes  # after every process has imported
    procs = []
    for n in range(processes):
        job = {
            "api_key": API_KEY,
            "base_url": base_url,
            "store": store,
            "defaults": True,
            "mode": "update",
            "ids": ids[n::processes],
            "tag": f"p{n}",
            "concurrency": 16,
            "start_at": start_at,
        }
        proc = subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(job))
        proc.stdin.close()
        procs.append(proc)
    reports = []
    for proc in procs:
        assert proc.stdout is not None
        reports.append(json.loads(proc.stdout.read()))
        proc.wait()
    finished = max(r["finished"] for r in reports)
    sent = sorted(t for r in reports for t in r["sent"])
    return {
        "makespan_s": finished - start_at,
        "first_send_s": sent[0] - start_at,
        "last_send_s": sent[-1] - start_at,
        "sends": len(sent),
        "status_429": sum(r["status_429"] for r in reports),
        "failed": sum(len(r["failed"]) for r in reports),
        "ok": sum(r["ok"] for r in reports),
        "warnings": sorted({w[:60] for r in reports for w in r["warnings"]}),
    }


async def _acquisition_cost(store: str | None, n: int) -> float:
    from lettr_async.ratelimit import open_store
    from lettr_async.ratelimit._limiter import Lane, RateLimiter

    limiter = RateLimiter(
        3, store=open_store(store, api_key=API_KEY, base_url="http://bench") if store else None
    )
    limiter.observe({"X-RateLimit-Limit": "100000"})
    for _ in range(20):  # connect, warm up
        await limiter.acquire(Lane.BULK)
    began = time.perf_counter()
    for _ in range(n):
        await limiter.acquire(Lane.BULK)
    elapsed = time.perf_counter() - began
    await limiter.aclose()
    return 1e6 * elapsed / n


async def _burst(base_url: str, ids: list[str]) -> dict[str, Any]:
    from lettr_async import AsyncLettr, LettrError

    async def one_burst(client: AsyncLettr) -> tuple[float, int]:
        async def get(n: int) -> bool:
            try:
                await client.webhooks.get(ids[n])
            except LettrError:
                return False
            return True

        began = time.perf_counter()
        results = await asyncio.gather(*(get(n) for n in range(60)))
        return time.perf_counter() - began, results.count(False)

    async with AsyncLettr(API_KEY, base_url=base_url, timeout=5) as client:
        cold, cold_failed = await one_burst(client)
        await asyncio.sleep(1.1)  # a fresh server window for the warm burst
        warm, warm_failed = await one_burst(client)
    return {
        "cold_s": cold,
        "cold_failed": cold_failed,
        "warm_s": warm,
        "warm_failed": warm_failed,
    }


def run(
    *, quick: bool, only_stores: list[str] | None = None, counts: list[int] | None = None
) -> dict[str, Any]:
    """All three parts; returns the results as plain data."""
    webhooks, rate = (200, 100) if quick else (1000, 100)
    counts = counts or ([1, 2] if quick else [1, 2, 4, 8])
    result: dict[str, Any] = {"webhooks": webhooks, "rate": rate, "team": [], "cost_us": {}}
    tmp = tempfile.mkdtemp()
    with _redis() as redis_url:
        stores: dict[str, str | None] = {
            "in-process": None,
            "sqlite": f"sqlite://{tmp}/budget.db",
        }
        if redis_url is not None:
            stores["redis"] = redis_url
        else:
            result["redis"] = "skipped: no redis-server/valkey-server on PATH"
        if only_stores:
            stores = {k: v for k, v in stores.items() if k in only_stores}
        with fake_lettr(seed=webhooks, rate_limit=rate) as base_url:
            ids = asyncio.run(_ids(base_url))
            time.sleep(1.1)  # a fresh server window
            for name, url in stores.items():
                for processes in counts:
                    print(f"team: {name} x {processes}", file=sys.stderr)
                    row = _team(base_url, url, processes, ids)
                    time.sleep(1.1)  # the next run starts in a fresh server window
                    result["team"].append({"store": name, "processes": processes, **row})
            result["burst"] = asyncio.run(_burst(base_url, ids))
        for name, url in stores.items():
            result["cost_us"][name] = asyncio.run(_acquisition_cost(url, 500 if quick else 5000))
    shutil.rmtree(tmp, ignore_errors=True)
    return result


def markdown(result: dict[str, Any]) -> str:
    """The results as the tables of ``benchmarks/RESULTS.md``."""
    ideal = result["webhooks"] / result["rate"]
    lines = [
        f"{result['webhooks']} updates split over N processes, server limit "
        f"{result['rate']}/s (ideal {ideal:.0f} s)",
        "",
        "| store | processes | makespan | vs ideal | 429s | failed items |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["team"]:
        lines.append(
            f"| {row['store']} | {row['processes']} | {row['makespan_s']:.2f} s | "
            f"{row['makespan_s'] / ideal:.3f}x | {row['status_429']} | {row['failed']} |"
        )
    lines += ["", "| store | cost of one slot acquisition |", "| --- | ---: |"]
    for name, cost in result["cost_us"].items():
        lines.append(f"| {name} | {cost:.0f} µs |")
    burst = result.get("burst")
    if burst:
        lines += [
            "",
            "| 60 concurrent gets, timeout 5 s, server 100/s | time | failed |",
            "| --- | ---: | ---: |",
            f"| cold (fresh client, default 3/s) | {burst['cold_s']:.2f} s | "
            f"{burst['cold_failed']} |",
            f"| warm (budget learned) | {burst['warm_s']:.2f} s | {burst['warm_failed']} |",
        ]
    if "redis" in result:
        lines += ["", f"Redis: {result['redis']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run, print Markdown, write JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scenario_multiprocess")
    parser.add_argument("--quick", action="store_true", help="200 updates, 1 and 2 processes")
    parser.add_argument("--out", type=Path, default=None, help="JSON results file")
    parser.add_argument(
        "--store", action="append", choices=["in-process", "sqlite", "redis"], help="repeatable"
    )
    parser.add_argument("--processes", type=int, action="append", help="repeatable")
    args = parser.parse_args(argv)
    result = run(quick=args.quick, only_stores=args.store, counts=args.processes)
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
