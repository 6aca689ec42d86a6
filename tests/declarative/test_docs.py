"""docs/webhooks-as-code.md: its TOML example is a valid file, its Python example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lettr_async.declarative import parse_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks-as-code.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_example_file_is_valid() -> None:
    toml_blocks = [b for b in _blocks("toml") if "[[webhooks]]" in b]
    assert toml_blocks
    env = {"APP_HOST": "https://x.example", "ORDERS_HOOK_PASSWORD": "p", "CRM_CLIENT_SECRET": "s"}
    for block in toml_blocks:
        state = parse_config(block, source="doc", env=env)
        assert [w.name for w in state.webhooks] == ["shop-orders", "shop-crm", "shop-audit"]


def test_the_python_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The async example, then the sync one (which reuses its ``CONFIG``), in one namespace."""
    blocks = _blocks("python")
    assert len(blocks) == 2
    monkeypatch.setenv("APP_HOST", "https://docs.example")
    monkeypatch.setenv("ORDERS_HOOK_PASSWORD", "docs-example-password")
    namespace = {"__name__": "__doc_example__"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102
