"""Webhooks as code: apply a 200-endpoint file with 50 changes at the rate limit.

``python -m benchmarks.scenario_declarative [--endpoints 200] [--changes 50]
[--rate 10] [--rounds 3]`` starts FakeLettr (a subprocess limited to
``--rate`` requests/s), applies file A (all endpoints), then alternates
between file A and file B, which differ by ``--changes`` changes: 60 % in-place
updates (name, events, enabled), 20 % creates and 20 % pruned deletes. Each
measured apply is one ``list`` plus one request per change, so its ideal wall
time at the limit is ``(changes + 1) / rate``; the plan (one more ``list``) is
timed separately. Requests and 429s are counted from the ``lettr_async``
DEBUG log, as in the bulk scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._servers import API_KEY, fake_lettr

__all__ = ["main", "make_files", "run"]


class _Counter(logging.Handler):
    """Counts responses (and 429s) from the ``lettr_async`` DEBUG log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.responses = 0
        self.status_429 = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "%s -> %d in %.1f ms" and isinstance(record.args, tuple):
            self.responses += 1
            self.status_429 += record.args[1] == 429


def _entry(i: int, *, variant: bool) -> str:
    events = '["message.delivery", "message.bounce"]' if variant else '["message.delivery"]'
    return (
        f'[[webhooks]]\nname = "bench-{i:03d}{"-v2" if variant else ""}"\n'
        f'url = "https://hooks.example.com/bench/{i:03d}"\n'
        f"enabled = {'false' if variant and i % 3 == 0 else 'true'}\n"
        f"events = {events}\n"
    )


def make_files(directory: Path, endpoints: int, changes: int) -> tuple[Path, Path]:
    """Write files A and B, each of ``endpoints`` entries, ``changes`` changes apart.

    Going from A to B updates 60 % of the changes in place (name, events,
    enabled), deletes 20 % (pruned: A's last entries) and creates 20 % (B's
    extra entries); going from B to A is the mirror image, so rounds can
    alternate between the two files.
    """
    moved = changes // 5
    updated = changes - 2 * moved
    header = '[ownership]\nname_prefix = "bench-"\n\n'
    a = [_entry(i, variant=False) for i in range(endpoints)]
    b = [_entry(i, variant=i < updated) for i in range(endpoints - moved)]
    b += [_entry(i, variant=False) for i in range(endpoints, endpoints + moved)]
    path_a, path_b = directory / "a.toml", directory / "b.toml"
    path_a.write_text(header + "\n".join(a))
    path_b.write_text(header + "\n".join(b))
    return path_a, path_b


async def _apply(base_url: str, path: Path, counter: _Counter) -> dict[str, Any]:
    from lettr_async import AsyncLettr, declarative
    from lettr_async.declarative import load_config

    desired = load_config(path, env={})
    async with AsyncLettr(API_KEY, base_url=base_url) as client:
        started = time.perf_counter()
        plan = await declarative.plan(client, desired, prune=True)
        planned = time.perf_counter()
        counter.responses = counter.status_429 = 0
        result = await declarative.apply(client, plan)
        done = time.perf_counter()
    return {
        "changes": len(plan.pending),
        "summary": plan.summary(),
        "plan_s": planned - started,
        "apply_s": done - planned,
        "requests": counter.responses,
        "http_429": counter.status_429,
        "failed": len(result.failed),
    }


def run(endpoints: int, changes: int, rate: int, rounds: int) -> dict[str, Any]:
    """Run the scenario; return its JSON document."""
    counter = _Counter()
    logger = logging.getLogger("lettr_async")
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    measured: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp, fake_lettr(seed=0, rate_limit=rate) as url:
            path_a, path_b = make_files(Path(tmp), endpoints, changes)
            setup = asyncio.run(_apply(url, path_a, counter))
            targets = [path_b, path_a]
            for index in range(rounds):
                time.sleep(1.02 - (time.time() % 1.0))  # start at a server window
                measured.append(asyncio.run(_apply(url, targets[index % 2], counter)))
    finally:
        logger.removeHandler(counter)
        logger.setLevel(old_level)
    ideal = (changes + 1) / rate
    walls = [m["apply_s"] for m in measured]
    return {
        "description": (
            f"apply of a {endpoints}-endpoint file with {changes} changes, "
            f"server limit {rate}/s (FakeLettr)"
        ),
        "setup_apply": setup,
        "ideal_apply_s": ideal,
        "rounds": measured,
        "apply_s_median": statistics.median(walls),
        "ratio_to_ideal_median": statistics.median(walls) / ideal,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run, print the JSON document."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scenario_declarative")
    parser.add_argument("--endpoints", type=int, default=200)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--rate", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    document = run(args.endpoints, args.changes, args.rate, args.rounds)
    json.dump(document, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
