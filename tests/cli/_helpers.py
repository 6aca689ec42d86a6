"""Small shared helpers for the CLI tests."""

from __future__ import annotations

import json
from typing import Any

from click.testing import Result

from lettr_async.testing import FakeLettr

API_KEY = "lttr_test_key"


def writes(fake: FakeLettr) -> list[str]:
    """The write requests (POST/PUT/PATCH/DELETE) the fake received."""
    return [f"{r.method} {r.path}" for r in fake.requests if r.method != "GET"]


def parse(result: Result) -> Any:
    """The JSON document a successful ``--json`` command printed on stdout."""
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return json.loads(result.stdout)
