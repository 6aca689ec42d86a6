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

A block that cannot run (a settings fragment, a complete pytest file) is
preceded by ``<!-- not-run: why -->``; the reason is mandatory, and such a
block is not collected (tested elsewhere, as the reason says).
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import os
import re
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


def evaluate(example: Example) -> None:
    """Run one block; top-level ``await`` runs in a fresh event loop."""
    __tracebackhide__ = True
    source = pad(example.parsed, example.line + example.parsed.line_offset)
    code = compile(
        source, example.path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
    )
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
