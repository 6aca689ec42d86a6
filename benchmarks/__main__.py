"""``python -m benchmarks [--quick] [--rounds N] [--out PATH] [--only SCENARIO ...]``.

``--bulk-size N --bulk-rate R`` resize the bulk scenario, e.g. ``200`` at
``20`` for the resilience issue's case (ideal 10 s as well).
``--sync-baseline DIR`` adds the ``lettr_sync`` of another checkout to the
sequential scenario (``benchmarks/_baseline.py``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs

from . import scenario_bulk, scenario_coldstart, scenario_concurrency, scenario_sequential
from ._config import Config
from ._contenders import lettr_sdk_available
from ._report import evaluate_targets, machine, markdown, write_json

__all__ = ["main"]

SCENARIOS: dict[str, Callable[[Config, Callable[[str], None]], dict[str, Any]]] = {
    "sequential": scenario_sequential.run,
    "concurrency": scenario_concurrency.run,
    "bulk": scenario_bulk.run,
    "coldstart": scenario_coldstart.run,
}
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark lettr_async / lettr_sync against Lettr's SDK and raw aiohttp.",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--rounds", type=int, default=None, help="measured rounds per scenario")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument(
        "--bulk-size", type=int, default=None, help="webhooks in the bulk scenario (1000)"
    )
    parser.add_argument(
        "--bulk-rate", type=int, default=None, help="server limit, requests/s, for bulk (100)"
    )
    parser.add_argument(
        "--sync-baseline",
        default=None,
        metavar="DIR",
        help="a checkout whose lettr_sync races this one in the sequential scenario",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=list(SCENARIOS),
        help="run only this scenario (repeatable)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenarios, print the Markdown report, write the JSON file."""
    args = _parser().parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        _parser().error("--rounds must be at least 1")
    config = Config.make(quick=args.quick, rounds=args.rounds)
    if args.bulk_size is not None:
        config = attrs.evolve(config, bulk_webhooks=args.bulk_size)
    if args.bulk_rate is not None:
        config = attrs.evolve(config, bulk_rate_limit=args.bulk_rate)
    if args.sync_baseline is not None:
        config = attrs.evolve(config, sync_baseline=args.sync_baseline)

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if not lettr_sdk_available():
        progress("note: Lettr's SDK is not installed (pip install -e '.[bench]'); skipping it")
    scenarios: dict[str, Any] = {}
    started = time.perf_counter()
    for name in args.only or list(SCENARIOS):
        progress(f"scenario {name} ...")
        t0 = time.perf_counter()
        scenarios[name] = SCENARIOS[name](config, progress)
        scenarios[name]["seconds"] = round(time.perf_counter() - t0, 1)
    result: dict[str, Any] = {
        "meta": {
            "command": " ".join(["python -m benchmarks", *(argv or sys.argv[1:])]),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "quick": config.quick,
            "config": attrs.asdict(config),
            "machine": machine(),
            "total_seconds": round(time.perf_counter() - started, 1),
        },
        "scenarios": scenarios,
        "targets": evaluate_targets(scenarios),
    }
    print(markdown(result))
    write_json(result, args.out)
    progress(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
