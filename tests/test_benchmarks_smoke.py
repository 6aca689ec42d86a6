"""Smoke test of the benchmark harness: a tiny ``--quick`` run, real servers, no timing asserts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_run_writes_the_expected_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    # --quick: ~30 calls per contender, 1 import run; the bulk scenario cut to
    # 10 items at 1000/s (its pacing is tested elsewhere, on simulated time):
    # this checks the harness runs and reports, not the numbers. The
    # timeout stops a hang.
    command = ["--quick", "--rounds", "1", "--bulk-size", "10", "--bulk-rate", "1000"]
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", *command, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "### Targets" in proc.stdout
    result = json.loads(out.read_text())
    assert set(result) == {"meta", "scenarios", "targets"}
    assert result["meta"]["quick"] is True
    assert {"machine", "command", "config"} <= set(result["meta"])
    scenarios = result["scenarios"]
    assert set(scenarios) == {"sequential", "concurrency", "bulk", "coldstart"}
    sequential = scenarios["sequential"]["contenders"]
    assert {"lettr_sync.Lettr", "AsyncLettr", "bare aiohttp (floor)"} <= set(sequential)
    for metrics in sequential.values():
        assert {"rps", "us_per_call", "cpu_us_per_call"} <= set(metrics)
        assert metrics["rps"]["median"] > 0
        assert {"median", "min", "max", "q1", "q3", "samples"} <= set(metrics["rps"])
    assert "AsyncLettr, 32 in flight" in scenarios["concurrency"]["contenders"]
    for bulk in scenarios["bulk"]["contenders"].values():
        assert bulk["failed"]["max"] == 0
        assert {"wall_s", "ratio_to_ideal", "http_429", "retries"} <= set(bulk)
    assert {"lettr_sync", "lettr_async"} <= set(scenarios["coldstart"]["contenders"])
    statuses = {target["status"] for target in result["targets"]}
    assert statuses <= {"PASS", "MISS", "n/a"}
    assert len(result["targets"]) == 9
