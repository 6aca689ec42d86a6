"""Targets (ratios measured in one run), the Markdown tables and the JSON file."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .scenario_concurrency import async_label
from .scenario_sequential import (
    AIOHTTP_FLOOR,
    ASYNC_LETTR,
    LETTR_SDK,
    LETTR_SYNC,
    LETTR_SYNC_BASELINE,
)

__all__ = ["evaluate_targets", "machine", "markdown", "write_json"]

_METRIC_TITLES = {
    "rps": "req/s",
    "us_per_call": "µs/call (wall)",
    "cpu_us_per_call": "client CPU µs/call",
    "wall_s": "wall s",
    "ratio_to_ideal": "x ideal",
    "http_429": "429s",
    "retries": "retries",
    "failed": "failed",
    "import_ms": "import ms (wall - bare python)",
    "importtime_cumulative_ms": "-X importtime ms",
    "vmhwm_mib": "peak RSS MiB (VmHWM)",
    "vmrss_mib": "RSS MiB (VmRSS)",
    "server_cpu_us_per_call": "server CPU µs/call",
}
_HIDDEN = {"responses", "retries_after_429"}


def machine() -> dict[str, Any]:
    """nproc, the first lines of lscpu, Python and platform."""
    try:
        lscpu = subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=False, timeout=10
        ).stdout.splitlines()[:12]
    except OSError:
        lscpu = []
    return {
        "nproc": os.cpu_count(),
        "lscpu": [" ".join(line.split()) for line in lscpu],
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }


def _median(scenarios: Mapping[str, Any], scenario: str, contender: str, metric: str) -> float:
    try:
        value = scenarios[scenario]["contenders"][contender][metric]["median"]
    except KeyError:
        return math.nan
    return float(value) if value is not None else math.nan


def _paired_ratio(
    scenarios: Mapping[str, Any], scenario: str, numerator: str, denominator: str, metric: str
) -> float:
    """Median of per-round ratios of two contenders of one interleaved scenario.

    Rounds run A B A B ..., so round i of both saw the same machine load;
    pairing them cancels most of the noise a shared 2-core VM adds, which a
    ratio of the two medians would keep.
    """
    try:
        contenders = scenarios[scenario]["contenders"]
        top = contenders[numerator][metric]["samples"]
        bottom = contenders[denominator][metric]["samples"]
    except KeyError:
        return math.nan
    ratios = [a / b for a, b in zip(top, bottom, strict=True) if b]
    return statistics.median(ratios) if ratios else math.nan


def _max(scenarios: Mapping[str, Any], scenario: str, contender: str, metric: str) -> float:
    try:
        value = scenarios[scenario]["contenders"][contender][metric]["max"]
    except KeyError:
        return math.nan
    return float(value) if value is not None else math.nan


def _target(
    name: str, measured: float, threshold: float, ok: Callable[[float], bool], unit: str
) -> dict[str, Any]:
    status = "n/a" if math.isnan(measured) else ("PASS" if ok(measured) else "MISS")
    return {
        "target": name,
        "measured": None if math.isnan(measured) else round(measured, 3),
        "threshold": threshold,
        "unit": unit,
        "status": status,
    }


def evaluate_targets(scenarios: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets: paired per-round ratios within a scenario, else medians."""
    seq = "sequential"
    sdk_rps = _median(scenarios, seq, LETTR_SDK, "rps")
    targets = [
        _target(
            "AsyncLettr sequential >= 3x Lettr's SDK req/s",
            _paired_ratio(scenarios, seq, ASYNC_LETTR, LETTR_SDK, "rps"),
            3.0,
            lambda r: r >= 3.0,
            "x SDK",
        ),
        _target(
            "AsyncLettr sequential <= 1.25x bare aiohttp time/call",
            _paired_ratio(scenarios, seq, ASYNC_LETTR, AIOHTTP_FLOOR, "us_per_call"),
            1.25,
            lambda r: r <= 1.25,
            "x floor",
        ),
        _target(
            "lettr_sync.Lettr sequential >= 2x Lettr's SDK req/s",
            _paired_ratio(scenarios, seq, LETTR_SYNC, LETTR_SDK, "rps"),
            2.0,
            lambda r: r >= 2.0,
            "x SDK",
        ),
        _target(
            "AsyncLettr 32 in flight >= 5x Lettr's SDK sequential req/s",
            _median(scenarios, "concurrency", async_label(32), "rps") / sdk_rps,
            5.0,
            lambda r: r >= 5.0,
            "x SDK",
        ),
    ]
    if LETTR_SYNC_BASELINE in scenarios.get(seq, {}).get("contenders", {}):
        targets.append(
            _target(
                "lettr_sync.Lettr sequential <= 1.05x the --sync-baseline build time/call",
                _paired_ratio(scenarios, seq, LETTR_SYNC, LETTR_SYNC_BASELINE, "us_per_call"),
                1.05,
                lambda r: r <= 1.05,
                "x baseline",
            )
        )
    from .scenario_bulk import ASYNC_BULK, SYNC_BULK

    for label in (ASYNC_BULK, SYNC_BULK):
        targets.append(
            _target(
                f"Bulk ({label}) <= 1.05x ideal time",
                _median(scenarios, "bulk", label, "ratio_to_ideal"),
                1.05,
                lambda r: r <= 1.05,
                "x ideal",
            )
        )
        targets.append(
            _target(
                f"Bulk ({label}) <= 1 HTTP 429 (worst round)",
                _max(scenarios, "bulk", label, "http_429"),
                1,
                lambda r: r <= 1,
                "429s",
            )
        )
    targets.append(
        _target(
            "Import time of lettr_sync <= 1.2x Lettr's SDK",
            _median(scenarios, "coldstart", "lettr_sync", "import_ms")
            / _median(scenarios, "coldstart", "lettr", "import_ms"),
            1.2,
            lambda r: r <= 1.2,
            "x SDK",
        )
    )
    return targets


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.3g}" if magnitude < 1 else f"{value:.2f}"


def _cell(summary: Mapping[str, Any] | None) -> str:
    if not summary or summary.get("median") is None:
        return "-"
    median, low, high = summary["median"], summary["min"], summary["max"]
    if len(summary.get("samples", [])) <= 1 or low == high:
        return _fmt(median)
    return f"{_fmt(median)} ({_fmt(low)} to {_fmt(high)})"


def _scenario_table(title: str, section: Mapping[str, Any]) -> list[str]:
    contenders: Mapping[str, Mapping[str, Any]] = section["contenders"]
    metrics: list[str] = []
    for per in contenders.values():
        metrics += [m for m in per if m not in metrics and m not in _HIDDEN]
    lines = [f"### {title}", "", section.get("description", ""), ""]
    lines.append("| contender | " + " | ".join(_METRIC_TITLES.get(m, m) for m in metrics) + " |")
    lines.append("|---|" + "---:|" * len(metrics))
    for name, per in contenders.items():
        lines.append(f"| {name} | " + " | ".join(_cell(per.get(m)) for m in metrics) + " |")
    lines.append("")
    return lines


def markdown(result: Mapping[str, Any]) -> str:
    """All scenario tables (median (min-max)), then the targets with PASS/MISS."""
    lines: list[str] = []
    titles = {
        "sequential": "1. Sequential webhooks.get",
        "concurrency": "2. Concurrency",
        "bulk": "3. Bulk update_many under the server's rate limit",
        "coldstart": "4. Cold start",
    }
    for key, section in result["scenarios"].items():
        lines += _scenario_table(titles.get(key, key), section)
    lines += [
        "### Targets",
        "",
        "| target | measured | threshold | result |",
        "|---|---:|---:|---|",
    ]
    for t in result["targets"]:
        lines.append(
            f"| {t['target']} | {_fmt(t['measured'])} {t['unit']} | {t['threshold']} | "
            f"**{t['status']}** |"
        )
    lines.append("")
    lines.append("Cells: median (min to max) over the measured rounds.")
    return "\n".join(lines)


def write_json(result: Mapping[str, Any], path: Path) -> None:
    """Write the whole result, NaN-free."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
