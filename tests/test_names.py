"""One name, one thing: no two classes, and no two modules outside a few twins, share a name.

Two classes called ``RateLimiter`` (the client's pacing and the fake
server's quota) each needed a "not to be confused with" note; a reader who
greps a name should find one definition. The scan reads the source with
``ast`` (nested classes count too), over ``lettr_async`` and ``lettr_sync``.

``KNOWN_SHARED`` lists the class names still shared, each with the change
that removes it; the test fails when a new one appears *and* when a listed
one is gone, so the list only shrinks. ``TWIN_MODULES`` lists the module
names that repeat on purpose, each with why.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("lettr_async", "lettr_sync")

KNOWN_SHARED: frozenset[str] = frozenset()

TWIN_MODULES: dict[str, str] = {
    "client": "lettr_sync._client is the sync face of lettr_async._client",
    "declarative": "the lettr_async.declarative package, its sync face lettr_sync.declarative "
    "and the CLI's plan/apply/export commands",
    "errors": "each feature package keeps its own exceptions (cli, declarative, events)",
    "models": "lettr_async.models (the API's records) and events._models (the event records)",
    "events": "the lettr_async.events package, its sync face lettr_sync.events, the CLI's "
    "`events` command and lettr_async.testing.events (building events to send)",
}
"""Names (a leading ``_`` dropped) that several modules or packages use, on purpose;
``__init__`` and ``__main__`` are not counted."""


def _files() -> list[Path]:
    return [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_no_two_classes_share_a_name() -> None:
    where: defaultdict[str, list[str]] = defaultdict(list)
    for path in _files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                where[node.name].append(f"{_relative(path)}:{node.lineno}")
    assert len(where) > 50  # the scan found the packages' classes
    shared = {name: places for name, places in where.items() if len(places) > 1}
    assert set(shared) - KNOWN_SHARED == set(), f"one name, several classes: {shared}"
    assert KNOWN_SHARED - set(shared) == set(), "fixed: shrink KNOWN_SHARED"


def _module_names() -> defaultdict[str, list[str]]:
    """Modules and packages by name without a leading ``_`` (``_ratelimit`` is ``ratelimit``)."""
    where: defaultdict[str, list[str]] = defaultdict(list)
    for path in _files():
        name = path.parent.name if path.name == "__init__.py" else path.stem
        if name != "__main__":
            where[name.removeprefix("_")].append(_relative(path))
    return where


def test_module_names_repeat_only_for_twins() -> None:
    where = _module_names()
    assert len(where["ratelimit"]) == 1  # the package; the fake server's quota is testing/_quota
    repeated = {name: paths for name, paths in where.items() if len(paths) > 1}
    assert set(repeated) - set(TWIN_MODULES) == set(), f"one name, several modules: {repeated}"
    assert set(TWIN_MODULES) - set(repeated) == set(), "no longer repeated: shrink TWIN_MODULES"
