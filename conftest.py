"""Runs every Python code block of README.md and docs/*.md against a FakeLettr.

Sybil collects the fenced ``python`` blocks of each page as tests (chosen over
pytest-examples because it keeps one namespace per page, so a page's blocks
build on each other like a reader's session, and has per-page set-up and
tear-down hooks to start the fake server). Each page gets:

* a ``FakeLettr`` in a thread, accepting the placeholder key ``lttr_...`` used
  in the examples, with ``LETTR_BASE_URL``/``LETTR_API_KEY`` pointing at it
  (restored afterwards): no example can reach the real API;
* ``fake`` (that server) and ``client`` (an ``AsyncLettr`` bound to it) in
  its namespace, for pages that show fragments rather than whole programs;
* top-level ``await`` in blocks, run to completion in a fresh event loop.

A block a reader cannot run on its own as a script (top-level ``await``, or a
name such as ``client`` that an earlier block or the page's set-up defines)
must say so on its first line, ``# fragment: ...``, or the test fails: a
reader who copies a block must know whether it runs as it is.

A block that cannot run (a settings fragment, a complete pytest file) is
preceded by ``<!-- not-run: why -->``; the reason is mandatory, and such a
block is not collected (tested elsewhere, as the reason says).
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import contextlib
import inspect
import os
import re
import types
from collections.abc import Iterable
from typing import Any

from sybil import Document, Example, Region, Sybil
from sybil.evaluators.python import pad
from sybil.parsers.markdown import CodeBlockParser

from lettr_async import AsyncLettr
from lettr_async.testing import FakeLettr

_NOT_RUN = re.compile(r"<!--\s*not-run:\s*(?P<reason>\S.*?)\s*-->\s*$")
_NOT_RUN_BARE = re.compile(r"<!--\s*not-run\b")
EXAMPLE_KEY = "lttr_..."
_ENV = ("LETTR_API_KEY", "LETTR_BASE_URL")


def _borrowed_names(source: str) -> set[str]:
    """Names the block reads but never binds, imports or gets from builtins."""
    tree = ast.parse(source)
    read: set[str] = set()
    bound = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return read - bound


def _check_fragment_marked(source: str, code: types.CodeType, where: str) -> None:
    """Fail a block that is not a whole script unless its first line says so."""
    if source.lstrip().startswith("# fragment:"):
        return
    reasons = sorted(_borrowed_names(source))
    if code.co_flags & inspect.CO_COROUTINE:
        reasons.insert(0, "top-level await")
    if reasons:
        raise AssertionError(
            f"{where}: this block does not run as a script ({', '.join(reasons)}); "
            "make it whole or start it with '# fragment: <what it needs>'"
        )


def evaluate(example: Example) -> None:
    """Run one block; top-level ``await`` runs in a fresh event loop."""
    __tracebackhide__ = True
    source = pad(example.parsed, example.line + example.parsed.line_offset)
    code = compile(
        source, example.path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
    )
    _check_fragment_marked(example.parsed, code, f"{example.path}:{example.line}")
    result = eval(code, example.namespace)  # noqa: S307 - our own documentation
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(result)
    example.namespace.pop("__builtins__", None)


class RunnableBlocks(CodeBlockParser):
    """Python code blocks, minus those explicitly marked ``<!-- not-run: reason -->``."""

    def __init__(self) -> None:
        super().__init__("python", evaluate)

    def __call__(self, document: Document) -> Iterable[Region]:
        for region in super().__call__(document):
            before = document.text[: region.start].rstrip("\n").rsplit("\n", 1)[-1]
            if _NOT_RUN.search(before):
                continue
            if _NOT_RUN_BARE.search(before):
                raise ValueError(f"{document.path}: <!-- not-run: ... --> needs a reason")
            yield region


def setup(namespace: dict[str, Any]) -> None:
    """Start a fake for this page and point the environment at it."""
    stack = contextlib.ExitStack()
    fake = stack.enter_context(FakeLettr.in_thread(api_key=EXAMPLE_KEY))
    client = AsyncLettr(EXAMPLE_KEY, base_url=fake.base_url, rate_limit=None)
    saved = {name: os.environ.get(name) for name in _ENV}
    os.environ["LETTR_BASE_URL"] = fake.base_url
    os.environ["LETTR_API_KEY"] = EXAMPLE_KEY
    namespace.update(
        __name__="__docs__",
        fake=fake,
        client=client,
        _docs_client=client,
        _docs_stack=stack,
        _docs_env=saved,
    )


def teardown(namespace: dict[str, Any]) -> None:
    """Close the page's client and fake, and restore the environment."""
    client: AsyncLettr = namespace["_docs_client"]  # pages may rebind ``client``
    asyncio.run(client.aclose())
    for name, value in namespace["_docs_env"].items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    namespace["_docs_stack"].close()


_PARSERS = [RunnableBlocks()]
pytest_collect_file = (
    Sybil(parsers=_PARSERS, patterns=["README.md"], setup=setup, teardown=teardown, name="readme")
    + Sybil(
        parsers=_PARSERS,
        path="docs",
        patterns=["*.md"],
        setup=setup,
        teardown=teardown,
        name="docs",
    )
).pytest()
