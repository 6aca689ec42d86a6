"""Smoke test of ``benchmarks.instructions``' client process (natively; valgrind only counts)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks._servers import API_KEY, server_process
from benchmarks.instructions import markdown, summary

ROOT = Path(__file__).resolve().parent.parent


# Only async_speedups decodes with msgspec: the rest measure the default install.
DECODERS = dict.fromkeys(
    ("async_default", "async_no_pacing", "async_one_hook"), "lettr_async._converter"
) | {"floor": None, "async_speedups": "lettr_async._speedups"}


def test_each_async_contender_makes_its_calls_and_reports_cpu() -> None:
    args = ["-m", "benchmarks._fastserver", "--port", "0", "--api-key", API_KEY]
    with server_process([*args, "--limit", "100000"]) as base_url:
        for name in (
            "floor",
            "async_default",
            "async_no_pacing",
            "async_one_hook",
            "async_speedups",
        ):
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks._icount_client", name, base_url, "2", "3"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert proc.returncode == 0, proc.stderr[-2000:]
            report = json.loads(proc.stdout.splitlines()[-1])
            assert report["cpu_s"] >= 0
            assert report["decoder"] == DECODERS[name], name


def test_the_table_is_relative_to_the_floor() -> None:
    table = markdown(
        {
            "floor": summary([400_000.0], 300.0),
            "async_no_pacing": summary([460_000.0], 350.0),
        }
    )
    assert "| AsyncLettr, rate_limit=None | 460.0 | 1.15 | 350 |" in table
    assert table.splitlines()[2].startswith("| floor")


def test_repeated_measurements_show_their_median_and_range() -> None:
    row = summary([415_900.0, 414_700.0, 415_200.0], 425.0)
    assert row["instructions_per_call"] == 415_200.0
    table = markdown({"async_no_pacing": row})
    assert "| AsyncLettr, rate_limit=None | 415.2 (414.7-415.9) | n/a | 425 |" in table
