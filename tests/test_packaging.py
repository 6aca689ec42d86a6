"""Packaging: the tested dependency floors match the declared ones; the sdist is complete."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = {"aiohttp", "attrs", "cattrs", "anyio", "multidict", "yarl"}
"""Runtime dependencies ``lettr_async`` imports directly: each needs a tested floor."""


def _declared_floors() -> dict[str, str]:
    """``name -> minimum`` from ``[project] dependencies`` and the ``test`` and ``speedups`` extras.

    No tomllib: Python 3.10 lacks it.
    """
    text = (ROOT / "pyproject.toml").read_text()
    floors: dict[str, str] = {}
    for start in ("dependencies", "test", "speedups"):
        block = re.search(rf"^{start} = \[(.*?)^\]", text, re.S | re.M)
        assert block is not None
        floors.update(re.findall(r'^\s*"([A-Za-z0-9_.-]+)>=([0-9.]+)', block.group(1), re.M))
    return floors


def _pinned() -> dict[str, str]:
    text = (ROOT / "constraints" / "floors.txt").read_text()
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==([0-9.]+)\s*$", text, re.M))


def _same_version(a: str, b: str) -> bool:
    def parts(v: str) -> list[int]:
        numbers = [int(p) for p in v.split(".")]
        while numbers and numbers[-1] == 0:
            numbers.pop()
        return numbers

    return parts(a) == parts(b)


def test_every_direct_dependency_has_a_declared_floor() -> None:
    assert set(_declared_floors()) >= CORE


def test_floors_file_pins_exactly_the_declared_minimums() -> None:
    declared, pinned = _declared_floors(), _pinned()
    assert set(pinned) >= CORE
    assert set(pinned) <= set(declared), "a pin for an undeclared dependency"
    mismatched = {
        name: (declared[name], version)
        for name, version in pinned.items()
        if not _same_version(declared[name], version)
    }
    assert mismatched == {}


def test_sdist_ships_what_the_tests_import_and_read() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[tool.hatch.build.targets.sdist]", 1)[1].split("\n[", 1)[0]
    for needed in ("lettr_async", "lettr_sync", "tests", "benchmarks", "README.md"):
        assert f'"{needed}"' in section, needed
