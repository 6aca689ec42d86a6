"""``python -m benchmarks.instructions``: user-space instructions per ``webhooks.get`` call.

Why instructions: on a shared 2-core machine CPU time per call moves
±15-25 % between runs, so a 10 % overhead cannot be seen in it; valgrind's
instruction count of the same program repeats within a fraction of a
percent. Method:

* the server (``benchmarks._fastserver``: canned ``WebhookView`` envelope
  and the headers Lettr sends) runs in its own process, never measured;
* the client process (``benchmarks._icount_client``) runs under
  ``valgrind --tool=cachegrind --cache-sim=no`` twice per contender, with
  the same warm-up and 0 or N measured calls; the difference divided by N
  is the cost of one call, start-up, imports and warm-up cancelled out;
* the same client also runs natively once for CPU microseconds per call
  (``time.process_time``, noisy, shown beside).

``PYTHONHASHSEED`` is fixed so both runs hash alike. On an idle machine the
runs of one invocation repeat within 0.1 k per call, but separate
invocations can differ by up to about 2.5 k, and runs beside other work by up
to 3 k (the hooked client moves most; 2026-12-03). ``--repeat R`` runs
everything R times, each with a new server, and reports each contender's
median and range.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._contenders import lettr_sdk_available
from ._icount_client import CONTENDERS
from ._servers import API_KEY, server_process

__all__ = ["main"]

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "instructions.json"
# The bound the client accepts: announced, it lets the default client pace at
# 100,000/s, so pacing never waits and the measured path is the common one.
SERVER_LIMIT = 100_000
_SUMMARY = re.compile(rb"^summary:\s+(\d+)", re.MULTILINE)


def _client_command(name: str, base_url: str, warmup: int, calls: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "benchmarks._icount_client",
        name,
        base_url,
        str(warmup),
        str(calls),
    ]


def _environment() -> dict[str, str]:
    return dict(os.environ, PYTHONHASHSEED="0", PYTHONUNBUFFERED="1")


def instructions(name: str, base_url: str, warmup: int, calls: int) -> int:
    """Total instructions of one client process under cachegrind."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cachegrind.out"
        command = [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            f"--cachegrind-out-file={out}",
            *_client_command(name, base_url, warmup, calls),
        ]
        proc = subprocess.run(command, capture_output=True, env=_environment(), check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{name} failed under valgrind:\n{proc.stderr.decode()[-2000:]}")
        match = _SUMMARY.search(out.read_bytes())
        if match is None:
            raise RuntimeError(f"no summary line in cachegrind's output for {name}")
        return int(match.group(1))


def cpu_us_per_call(name: str, base_url: str, warmup: int, calls: int) -> float:
    """CPU microseconds per call of a native (not valgrind) run."""
    proc = subprocess.run(
        _client_command(name, base_url, warmup, calls),
        capture_output=True,
        env=_environment(),
        check=False,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{proc.stderr[-2000:]}")
    return 1e6 * float(json.loads(proc.stdout.splitlines()[-1])["cpu_s"]) / calls


def instructions_per_call(name: str, base_url: str, warmup: int, calls: int) -> float:
    """One measurement: N calls less 0 calls, per call."""
    with_calls = instructions(name, base_url, warmup, calls)
    return (with_calls - instructions(name, base_url, warmup, 0)) / calls


def summary(counts: Sequence[float], cpu_us: float) -> dict[str, float]:
    """One contender's row: the median of its measurements, their range, the CPU time."""
    return {
        "instructions_per_call": statistics.median(counts),
        "instructions_min": min(counts),
        "instructions_max": max(counts),
        "cpu_us_per_call": cpu_us,
    }


def markdown(results: dict[str, dict[str, float]]) -> str:
    """The table: instructions per call (k), x floor, CPU us per call."""
    floor = results.get("floor", {}).get("instructions_per_call")
    lines = [
        "| contender | k instructions per call | x floor | CPU µs per call (native, noisy) |",
        "|---|---:|---:|---:|",
    ]
    for name, metrics in results.items():
        count = metrics["instructions_per_call"]
        ratio = f"{count / floor:.2f}" if floor else "n/a"
        low, high = metrics["instructions_min"], metrics["instructions_max"]
        spread = f" ({low / 1000:.1f}-{high / 1000:.1f})" if high > low else ""
        lines.append(
            f"| {CONTENDERS[name]} | {count / 1000:.1f}{spread} | {ratio} | "
            f"{metrics['cpu_us_per_call']:.0f} |"
        )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.instructions",
        description="Instructions per webhooks.get call under valgrind (cachegrind).",
    )
    parser.add_argument("--calls", type=int, default=1000, help="measured calls (1000)")
    parser.add_argument("--warmup", type=int, default=50, help="warm-up calls (50)")
    parser.add_argument(
        "--native-calls", type=int, default=2000, help="calls of the native CPU-time run"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs, each with a new server; the median (1)"
    )
    parser.add_argument(
        "--only", action="append", choices=list(CONTENDERS), help="contender (repeatable)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Measure every contender (or ``--only``), print Markdown, write JSON."""
    args = _parser().parse_args(argv)
    if min(args.calls, args.warmup, args.native_calls, args.repeat) < 1:
        _parser().error("--calls, --warmup, --native-calls and --repeat must be at least 1")
    names = args.only or [n for n in CONTENDERS if n != "lettr_sdk" or lettr_sdk_available()]
    server_args = ["-m", "benchmarks._fastserver", "--port", "0", "--api-key", API_KEY]
    counts: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, float] = {}
    for run in range(args.repeat):  # a new server per run: no run inherits another's state
        with server_process([*server_args, "--limit", str(SERVER_LIMIT)]) as base_url:
            for name in names:
                print(f"{name} (run {run + 1} of {args.repeat}) ...", file=sys.stderr, flush=True)
                counts[name].append(instructions_per_call(name, base_url, args.warmup, args.calls))
                if name not in cpu:
                    cpu[name] = cpu_us_per_call(name, base_url, args.warmup, args.native_calls)
    results = {name: summary(counts[name], cpu[name]) for name in names}
    report: dict[str, Any] = {
        "command": ["python", "-m", "benchmarks.instructions", *(argv or sys.argv[1:])],
        "calls": args.calls,
        "warmup": args.warmup,
        "repeat": args.repeat,
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
