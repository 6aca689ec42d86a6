"""Load ``lettr_sync`` from another checkout, to race a change against the build before it.

``python -m benchmarks --only sequential --sync-baseline DIR``, with ``DIR``
a checkout of the baseline (say ``git archive main | tar -x -C /tmp/main``),
adds that build's ``lettr_sync.Lettr`` as one more contender of the same
interleaved rounds, so "before" and "after" see the same machine load. The
baseline package is imported under another name and runs on this checkout's
``lettr_async``, so only the sync layer differs.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

__all__ = ["BASELINE_PACKAGE", "load_sync_client"]

BASELINE_PACKAGE = "lettr_sync_baseline"


def load_sync_client(checkout: str) -> Any:
    """``Lettr`` of ``<checkout>/lettr_sync``, imported as ``lettr_sync_baseline``."""
    init = Path(checkout, "lettr_sync", "__init__.py")
    if not init.is_file():
        raise SystemExit(f"--sync-baseline: no {init}")
    module = sys.modules.get(BASELINE_PACKAGE)
    if module is None:
        spec = importlib.util.spec_from_file_location(
            BASELINE_PACKAGE, init, submodule_search_locations=[str(init.parent)]
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[BASELINE_PACKAGE] = module
        spec.loader.exec_module(module)
    return module.Lettr
