"""The MkDocs hook that draws the benchmark chart from the table above its marker."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

HOOK = Path(__file__).resolve().parents[1] / "docs" / "_hooks" / "bench_chart.py"


def load_hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_chart", HOOK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PAGE = """\
| op | A | `B` | C |
|---|---:|---:|---:|
| sequential req/s | 1,000 | 2,500 (best) | |
| other | 1 | 2 | 3 |

<!-- bench-chart: sequential req/s -->

<!-- bench-chart: other -->
"""


def test_the_chart_draws_the_rows_numbers() -> None:
    out = load_hook().render(PAGE)
    assert "bench-chart" not in out
    first, second = re.findall(r"<svg.*?</svg>", out)
    bars = [float(w) for w in re.findall(r'<rect x="\d+" y="\d+" width="([\d.]+)"', first)]
    assert len(bars) == 2  # the empty cell is left out
    assert bars[1] / bars[0] == pytest.approx(2.5, rel=0.01)
    assert ">A<" in first
    assert ">B<" in first
    assert ">2,500<" in first
    assert len(re.findall("<rect", second)) == 3


def test_a_marker_without_its_row_fails_the_build() -> None:
    with pytest.raises(ValueError, match="no table row 'missing'"):
        load_hook().render(PAGE + "\n<!-- bench-chart: missing -->\n")


def test_the_performance_page_has_its_charts() -> None:
    page = (HOOK.parents[1] / "performance.md").read_text()
    assert len(re.findall("<svg", load_hook().render(page))) == 2
