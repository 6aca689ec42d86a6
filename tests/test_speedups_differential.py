"""The ``[speedups]`` decoder reads every body like the plain path (issue 23).

The plain install (``_converter.loads_json``) is the reference: for each body
of the corpus (hostile cases, the contract's examples, hypothesis-made JSON
text and bytes) ``_speedups.fast_loads`` must give the same value, with the
same types, or raise the same error; structured into each envelope the two
values give equal models or equal ``UnexpectedResponseError``s. End to end,
``webhooks.get``/``list`` against FakeLettr answer alike with the speedups
on and off (``LETTR_NO_SPEEDUPS=1``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lettr_async import UnexpectedResponseError
from lettr_async._converter import (
    MessageEnvelope,
    WebhookEnvelope,
    WebhookListEnvelope,
    loads_json,
    structure_response,
)
from lettr_async._speedups import fast_loads

from .speedups_corpus import CORPUS, describe_error, response_examples

ROOT = Path(__file__).resolve().parent.parent
ENVELOPES = (WebhookEnvelope, WebhookListEnvelope, MessageEnvelope)
MSGSPEC_ERRORS = {"DecodeError", "ValidationError", "UnicodeDecodeError"}  # the last: 0.19

assert fast_loads is not None, "the test extra installs [speedups]"
FAST = fast_loads


def _plain(body: bytes) -> Any:
    # One frame like the fast decoder's own, so both reach json.loads at the same
    # stack depth: Python 3.10-3.11 count frames and C nesting against one limit.
    return loads_json(body)


def _shape(value: Any) -> list[str]:
    """Value and type of every node, depth-first, without recursing (bodies nest deep).

    ``1 == 1.0 == True`` and ``nan != nan`` in Python; reprs tell them apart.
    """
    tokens: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            tokens.append(f"dict {len(item)}")
            for key, child in reversed(item.items()):
                tokens.append(repr(key))
                stack.append(child)
        elif isinstance(item, list):
            tokens.append(f"list {len(item)}")
            stack.extend(reversed(item))
        else:
            tokens.append(f"{type(item).__name__} {item!r}")
    return tokens


def _decoded(loads: Any, body: bytes) -> list[str]:
    if not body:  # _transport never decodes an empty body
        return ["empty"]
    try:
        return _shape(loads(body))
    except Exception as exc:
        return [type(exc).__name__, str(exc)]


def _structured(loads: Any, body: bytes, cls: type) -> list[Any]:
    try:
        value = loads(body)
    except ValueError:
        return ["not JSON"]
    try:
        model: object = structure_response(value, cls)
    except UnexpectedResponseError as exc:
        return describe_error(exc)
    return [type(model).__name__, repr(model), model]


def assert_same(body: bytes) -> None:
    """Both decoders agree on ``body``, decoded and structured into every envelope."""
    assert _decoded(FAST, body) == _decoded(_plain, body)
    if body:
        for cls in ENVELOPES:
            assert _structured(FAST, body, cls) == _structured(_plain, body, cls)


BODIES = {**CORPUS, **response_examples()}


@pytest.mark.parametrize("name", list(BODIES))
def test_corpus_decodes_and_structures_alike(name: str) -> None:
    assert_same(BODIES[name])


def test_the_corpus_holds_what_each_side_must_handle() -> None:
    # The hostile cases really are hostile to one side: the plain path accepts
    # these, msgspec alone rejects them, so the fast side must fall back.
    for name in ("NaN", "Infinity", "BOM", "UTF-16", "encoded surrogate", "escaped lone surrogate"):
        assert _decoded(_plain, CORPUS[name])[0].startswith("dict"), name
        assert _decoded(msgspec.json.decode, CORPUS[name])[0] in MSGSPEC_ERRORS, name
    assert "int 123456789012345678901234567890" in _decoded(FAST, CORPUS["huge int"])
    # ...and where the plain path fails, its error is what the fast side raises.
    assert _decoded(FAST, CORPUS["depth 200000"]) == ["ValueError", "JSON nested too deeply"]
    assert _decoded(FAST, CORPUS["trailing garbage"])[0] == "JSONDecodeError"


def test_nesting_at_every_depth_around_the_limits() -> None:
    # Where json.loads' RecursionError starts depends on the Python and the
    # stack; msgspec's own limit differs. Every depth up to past both agrees.
    for depth in [*range(195, 206), *range(850, 1100, 3)]:
        assert_same(b"[" * depth + b"]" * depth)
        assert_same(b'{"a":' * depth + b"1" + b"}" * depth)


_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 4, max_value=2**64 + 4)
    | st.integers(min_value=-(2**64), max_value=-(2**63) + 4)
    | st.floats()
    | st.text(max_size=12)
)
_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=25,
)
_NUMBER = r"\A-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,40})?([eE][+-]?[0-9]{1,4})?\Z"


# max_examples from the profile (tests/conftest.py): 400 in CI, 100 locally.
@settings(deadline=None, database=None)
@given(_values, st.booleans())
def test_any_json_value_decodes_alike(value: Any, ascii_only: bool) -> None:
    # ensure_ascii=False writes lone surrogates as (invalid) UTF-8 bytes.
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert_same(text.encode("utf-8", "surrogatepass"))


@settings(deadline=None, database=None)
@given(st.from_regex(_NUMBER))
@example("1" + "0" * 19)
@example("0." + "1" * 40 + "e-330")
def test_any_number_literal_decodes_alike(literal: str) -> None:
    assert_same(literal.encode())
    assert_same(b'{"message": ' + literal.encode() + b"}")


@settings(deadline=None, database=None)
@given(st.sampled_from(list(BODIES)), st.integers(min_value=0), st.binary(min_size=1, max_size=4))
def test_corrupted_bodies_decode_alike(name: str, at: int, patch: bytes) -> None:
    body = BODIES[name][:200]
    cut = at % (len(body) + 1)
    assert_same(body[:cut] + patch + body[cut + len(patch) :])


@settings(deadline=None, database=None)
@given(st.binary(max_size=40))
def test_any_bytes_decode_alike(body: bytes) -> None:
    assert_same(body)


def _end_to_end(**env: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.speedups_corpus"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return report


@pytest.mark.slow
def test_webhooks_get_and_list_answer_alike_with_speedups_on_and_off() -> None:
    fast = _end_to_end(LETTR_NO_SPEEDUPS="")
    plain = _end_to_end(LETTR_NO_SPEEDUPS="1")
    assert fast["decoder"] == "lettr_async._speedups"
    assert plain["decoder"] == "lettr_async._converter"
    assert fast["outcomes"] == plain["outcomes"]
    outcomes = fast["outcomes"]
    assert outcomes["get <id 1>"].startswith("Webhook(")
    assert "<id 0>" in outcomes["list seeded"]
    assert outcomes["get 200 huge int"][0] == "UnexpectedResponseError"
    assert outcomes["get 404 NaN"][0] == "NotFoundError"
    assert outcomes["get 200 depth 5000"][0] == "UnexpectedResponseError"
