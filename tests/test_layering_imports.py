"""No import circles in ``lettr_async`` and ``lettr_sync``; the core stays below its features.

The graph is built from the source with ``ast``, not by importing: every
``import``/``from`` statement counts, wherever it stands — at the top, inside
a function (a lazy import), or under ``if TYPE_CHECKING:``. A lazy or
type-only import hides a circle from the interpreter but not from the reader
(or from mypy, which follows both): the two modules still need each other.

``from pkg import name`` is an edge to ``pkg.name`` when that is a module,
else to ``pkg``. Importing ``a.b.c`` also runs ``a/__init__`` and
``a/b/__init__``; those implicit parent edges are not counted (every package
that re-exports its parts would otherwise sit in one circle with them), as in
import-linter/grimp.

``KNOWN_CIRCLES`` lists the circles still waiting for their owner's change;
the test fails when a new one appears *and* when a listed one is gone, so the
list only shrinks.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("lettr_async", "lettr_sync")

KNOWN_CIRCLES: frozenset[frozenset[str]] = frozenset()

LAYERS: tuple[tuple[str, ...], ...] = (
    # basics: the vocabulary every other module speaks
    (
        "errors",
        "models",
        "types",
        "hooks",
        "_sentinel",
        "_deprecation",
        "_validation",
        "_converter",
        "_redact",
        "_version",
    ),
    # engine: sending, pacing, retrying, bulk runs
    (
        "_pipeline",
        "_transport",
        "_deadlines",
        "_speedups",
        "_retry",
        "_loopguard",
        "ratelimit",
        "bulk",
    ),
    # the client and its resources (and the package's re-exports)
    ("_client", "resources", ""),
    # features built on the client, and the sync facade
    ("declarative", "cli", "testing", "events", "contrib", "pytest_plugin", "__main__"),
)
"""Modules of ``lettr_async`` by layer, lowest first; a module never imports a higher layer.
``lettr_sync`` as a whole belongs to the top layer. docs/development.md shows this table."""

KNOWN_LAYER_BREACHES: frozenset[tuple[str, str]] = frozenset()


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[str]:
    """The absolute dotted names one import statement refers to."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, node.module] if node.module else package)
    for alias in node.names:
        yield f"{base}.{alias.name}"
        yield base


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of the two packages it imports (anywhere in its source)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            names = list(_imported(node, name, is_package))
            if isinstance(node, ast.ImportFrom):
                # from pkg import x: the submodule pkg.x if there is one, else pkg.
                pairs = zip(names[::2], names[1::2], strict=True)
                names = [sub if sub in modules else base for sub, base in pairs]
            for target in names:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def circles(graph: Mapping[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def cycle_in(graph: Mapping[str, set[str]], component: frozenset[str]) -> list[str]:
    """One concrete path ``a -> b -> ... -> a`` inside a circle, for the failure message."""
    start = min(component)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node] & component):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if child not in came_from:
                came_from[child] = node
                queue.append(child)
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover


def _describe(graph: Mapping[str, set[str]], component: frozenset[str]) -> str:
    return " -> ".join(cycle_in(graph, component))


def test_the_graph_sees_lazy_and_type_checking_imports() -> None:
    graph = import_graph()
    # errors.py imports nothing of the package; bulk imports errors at the top.
    assert "lettr_async.errors" in graph["lettr_async.bulk"]
    # A lazy import inside a method is an edge too (FakeLettr.in_thread).
    assert "lettr_async.testing._thread" in graph["lettr_async.testing._server"]
    # And a TYPE_CHECKING one (the generated sync constructor names Hooks).
    assert "lettr_async.hooks" in graph["lettr_sync._generated"]


def test_cycle_reporting_finds_a_real_path() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [frozenset("abc")]
    assert _describe(graph, frozenset("abc")) == "a -> b -> c -> a"


def test_no_import_circles_beyond_the_known_ones() -> None:
    graph = import_graph()
    found = set(circles(graph))
    new = [_describe(graph, c) for c in found - KNOWN_CIRCLES]
    gone = [sorted(c) for c in KNOWN_CIRCLES - found]
    assert not new, "import circles:\n" + "\n".join(new)
    assert not gone, f"circles fixed: remove them from KNOWN_CIRCLES: {gone}"


def layer_of(module: str) -> int:
    """The index in ``LAYERS`` of a module of either package."""
    if module == "lettr_sync" or module.startswith("lettr_sync."):
        return len(LAYERS) - 1
    rest = module.removeprefix("lettr_async").removeprefix(".")
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if rest == prefix or (prefix and rest.startswith(prefix + ".")):
                return index
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def test_no_module_imports_a_higher_layer() -> None:
    graph = import_graph()
    breaches = {
        (module, target)
        for module, targets in graph.items()
        for target in targets
        if layer_of(target) > layer_of(module)
    }
    assert breaches - KNOWN_LAYER_BREACHES == set(), "imports a higher layer"
    assert KNOWN_LAYER_BREACHES - breaches == set(), "fixed: shrink KNOWN_LAYER_BREACHES"
