"""Scenario 4: cold start. Import time and resident memory after the first call.

Import time: wall time of a fresh ``python -c "import X"`` minus a fresh
``python -c "pass"`` (all interleaved, median of several), plus the
cumulative time ``-X importtime`` reports for the top module. Memory: a
fresh process imports X, makes one ``webhooks.get`` against the fast
server and reports ``VmRSS`` and its peak ``VmHWM`` (Linux
``/proc``; ``ru_maxrss`` is not used: it keeps the forking parent's peak).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from ._config import Config
from ._contenders import lettr_sdk_available
from ._fastserver import WEBHOOK_ID
from ._servers import API_KEY, fast_server
from ._stats import interleave

__all__ = ["run"]

_REPORT = """
import json
def _report():
    status = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                status[key] = int(value.split()[0])
    print(json.dumps(status))
"""

_FIRST_CALL = {
    "python (no import)": "_report()",
    "lettr": """
import lettr
client = lettr.Lettr(KEY, base_url=URL)
client.webhooks.get(ID)
_report()
client.close()
""",
    "lettr_sync": """
import lettr_sync
client = lettr_sync.Lettr(KEY, base_url=URL, rate_limit=None)
client.webhooks.get(ID)
_report()
client.close()
""",
    "lettr_async": """
import asyncio
import lettr_async
async def main():
    async with lettr_async.AsyncLettr(KEY, base_url=URL, rate_limit=None) as client:
        await client.webhooks.get(ID)
        _report()
asyncio.run(main())
""",
}


_ENV: dict[str, str] = {}


def _env(pycache: str) -> dict[str, str]:
    """Bytecode cached in a private directory for every contender alike.

    With ``PYTHONDONTWRITEBYTECODE`` set (as in some CI images) a source
    checkout would recompile on every import while a pip-installed package
    reads its ``.pyc``: not a fair race. The warm-up round fills the cache.
    """
    env = dict(os.environ, PYTHONPYCACHEPREFIX=pycache)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=_ENV or None,
    )


def _import_seconds(module: str | None) -> float:
    code = "pass" if module is None else f"import {module}"
    started = time.perf_counter()
    _python("-c", code)
    return time.perf_counter() - started


def _importtime_us(module: str) -> float:
    """Cumulative microseconds ``-X importtime`` reports for ``module`` itself."""
    err = _python("-X", "importtime", "-c", f"import {module}").stderr
    for line in err.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return float(parts[1])
    return float("nan")


def _memory(label: str, base_url: str) -> dict[str, float]:
    code = (
        _REPORT + f"KEY, URL, ID = {API_KEY!r}, {base_url!r}, {WEBHOOK_ID!r}\n" + _FIRST_CALL[label]
    )
    out = _python("-c", code).stdout.strip().splitlines()[-1]
    data = json.loads(out)
    return {"vmhwm_mib": data["VmHWM"] / 1024, "vmrss_mib": data["VmRSS"] / 1024}


def _memory_round(label: str, base_url: str) -> Callable[[], dict[str, float]]:
    return lambda: _memory(label, base_url)


def run(config: Config, progress: Callable[[str], None]) -> dict[str, Any]:
    """Run the scenario and return its JSON section."""
    with tempfile.TemporaryDirectory(prefix="lettr-bench-pycache-") as pycache:
        _ENV.update(_env(pycache))
        try:
            return _run(config, progress)
        finally:
            _ENV.clear()


def _run(config: Config, progress: Callable[[str], None]) -> dict[str, Any]:
    modules = ["lettr_sync", "lettr_async"]
    if lettr_sdk_available():
        modules.insert(0, "lettr")

    def importer(module: str) -> Callable[[], dict[str, float]]:
        def one() -> dict[str, float]:
            baseline = _import_seconds(None)
            total = _import_seconds(module)
            return {
                "import_ms": 1000 * (total - baseline),
                "importtime_cumulative_ms": _importtime_us(module) / 1000,
            }

        return one

    imports = interleave(
        {m: importer(m) for m in modules},
        rounds=config.coldstart_runs,
        warmup=config.warmup,  # also compiles every module into the private bytecode cache
        progress=progress,
    )
    with fast_server() as url:
        labels = ["python (no import)", *modules]
        memory = interleave(
            {label: _memory_round(label, url) for label in labels},
            rounds=max(1, min(3, config.coldstart_runs)),
            warmup=0,
        )
    contenders: dict[str, dict[str, Any]] = {}
    for label in labels:
        contenders[label] = {**imports.get(label, {}), **memory[label]}
    return {
        "description": "fresh-process import time, and memory after the first webhooks.get",
        "runs": config.coldstart_runs,
        "contenders": contenders,
    }
