"""The CLI and the demo use only the public API; the core never needs the CLI (issue 11)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import lettr_async

PACKAGE = Path(lettr_async.__file__).parent
# Public modules of lettr_async the CLI and the demo may import from.
PUBLIC = {
    "lettr_async",
    "lettr_async.testing",
    "lettr_async.models",
    "lettr_async.declarative",
}
FILES = sorted((PACKAGE / "cli").glob("*.py"))


def _imported_sdk_modules(path: Path) -> set[str]:
    """Absolute names of the lettr_async modules ``path`` imports (its own package aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = "lettr_async.cli" if path.parent.name == "cli" else "lettr_async"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            if name.startswith("lettr_async"):
                found.add(name)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("lettr_async"))
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_only_public_sdk_modules_are_imported(path: Path) -> None:
    imported = {m for m in _imported_sdk_modules(path) if not m.startswith("lettr_async.cli")}
    if path.name == "_demo.py":  # the demo runs without click: no other CLI module
        assert not any(m.startswith("lettr_async.cli") for m in _imported_sdk_modules(path))
    assert imported <= PUBLIC, imported - PUBLIC


@pytest.mark.slow
def test_demo_does_not_load_the_cli() -> None:
    code = (
        "import sys, lettr_async.cli._demo\n"
        "loaded = sorted(m for m in sys.modules\n"
        "                if m.startswith('lettr_async.cli') or m == 'click')\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    # The package's __init__ (which imports click lazily) and the demo itself, no more.
    assert result.stdout.strip() == "['lettr_async.cli', 'lettr_async.cli._demo']"
