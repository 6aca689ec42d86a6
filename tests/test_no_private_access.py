"""``lettr_async`` and ``lettr_sync`` never touch another library's private attributes.

A private attribute (``x._name``, not a dunder) of an aiohttp, asyncio, redis
or anyio object can change in any release without notice; reaching for one
would break this package silently. The scan is by ``ast``, over every module
of both packages: every private name they *define* (functions, classes,
module globals, locals and parameters, class-body fields, ``__slots__``,
attributes assigned on ``self``/``cls``) is ours; a private attribute read or
written under any other name, a ``getattr``/``setattr``/``hasattr``/
``delattr`` of such a name as a string, and a ``from lib import _name`` of a
library are failures.

Known weakness: this matches names, not types. A private name we also
define (say ``_loop``) slips through on a foreign object; the self-check
below proves the scan catches what the code used to do (``conn._reader``,
``getattr(connector, "_conns")``), not that it catches everything.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("lettr_async", "lettr_sync")
_STRING_ACCESSORS = frozenset({"getattr", "setattr", "hasattr", "delattr"})
_DOCUMENTED = frozenset({"_replace", "_asdict", "_fields", "_make"})
"""Underscored but public: ``collections.namedtuple``'s documented methods."""


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _sources() -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def _defined(tree: ast.AST) -> Iterator[str]:
    """Every name this module binds, or assigns as an attribute of ``self``/``cls``."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            yield node.id
        elif isinstance(node, ast.arg):
            yield node.arg
        elif isinstance(node, ast.alias):
            yield node.asname or node.name.split(".")[0]
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id in {"self", "cls"}
        ):
            yield node.attr
        elif (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets)
            and isinstance(node.value, (ast.Tuple, ast.List))
        ):
            for slot in node.value.elts:
                if isinstance(slot, ast.Constant) and isinstance(slot.value, str):
                    yield slot.value


def _own_module(module: str | None, level: int) -> bool:
    return level > 0 or (module or "").split(".")[0] in PACKAGES


def _foreign_private(tree: ast.AST, ours: set[str]) -> Iterator[tuple[int, str]]:
    """(line, what) for each private name used here that none of our modules defines."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr) and node.attr not in ours:
            yield node.lineno, f".{node.attr}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _STRING_ACCESSORS
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _is_private(node.args[1].value)
            and node.args[1].value not in ours
        ):
            yield node.lineno, f'{node.func.id}(..., "{node.args[1].value}")'
        elif isinstance(node, ast.ImportFrom) and not _own_module(node.module, node.level):
            for alias in node.names:
                if _is_private(alias.name):
                    yield node.lineno, f"from {node.module} import {alias.name}"


def scan(sources: dict[str, str], extra: Iterable[str] = ()) -> list[str]:
    """``path:line: what`` for every foreign private access in ``sources``.

    ``extra`` sources only add to the names we define (the real packages
    when a planted snippet is scanned).
    """
    trees = {name: ast.parse(text, filename=name) for name, text in sources.items()}
    ours = {n for t in [*trees.values(), *map(ast.parse, extra)] for n in _defined(t)}
    ours = {name for name in ours if _is_private(name)} | _DOCUMENTED
    return [
        f"{name}:{line}: {what}"
        for name, tree in trees.items()
        for line, what in _foreign_private(tree, ours)
    ]


def test_no_module_touches_a_private_attribute_of_another_library() -> None:
    sources = _sources()
    assert len(sources) > 50  # both packages were found
    assert scan(sources) == []


def test_the_scan_catches_what_the_code_used_to_do() -> None:
    planted = """
import asyncio
from asyncio.base_events import _run_until_complete_cb

def release(connector, conn, transport):
    conns = getattr(connector, "_conns", {})
    conn._reader = conn._writer = None
    transport._call_connection_lost(None)
    return conns
"""
    found = scan({"planted.py": planted}, extra=_sources().values())
    assert found == [
        "planted.py:3: from asyncio.base_events import _run_until_complete_cb",
        'planted.py:6: getattr(..., "_conns")',
        "planted.py:7: ._reader",
        "planted.py:7: ._writer",
        "planted.py:8: ._call_connection_lost",
    ]
