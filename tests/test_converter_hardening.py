"""Hostile success bodies become ``UnexpectedResponseError`` (issue 10, item 5).

``loads_json`` is the decoder for untrusted bytes; ``structure_response``
must turn any decoded JSON value into a model or an ``UnexpectedResponseError``.
"""

from __future__ import annotations

import json
from datetime import timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lettr_async import UnexpectedResponseError, Webhook
from lettr_async._converter import (
    MAX_JSON_DEPTH,
    MessageEnvelope,
    WebhookEnvelope,
    WebhookListEnvelope,
    json_depth,
    loads_json,
    structure_response,
)

VIEW: dict[str, Any] = {
    "id": "webhook-1",
    "name": "Orders",
    "url": "https://example.com/hook",
    "enabled": True,
    "event_types": None,
    "auth_type": "none",
    "has_auth_credentials": False,
    "last_successful_at": None,
    "last_failure_at": None,
    "last_status": None,
}


def envelope(**overrides: Any) -> dict[str, Any]:
    return {"message": "ok", "data": {**VIEW, **overrides}}


# --- loads_json ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        # Nesting that makes json.loads raise RecursionError on every supported Python
        # (3.10 already at ~1,000 levels, 3.13 only beyond ~100,000).
        b"[" * 200_000 + b"]" * 200_000,
        b"[" * 200_000,
        b'{"a":' * 200_000 + b"1" + b"}" * 200_000,
        b"\xff",
        b"{",
        b"1" * 5000,  # longer than Python's int-parsing digit limit
    ],
)
def test_loads_json_raises_value_error_only(body: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - any ValueError is the contract
        loads_json(body)


def test_loads_json_depth_limit_is_the_same_on_every_python() -> None:
    with pytest.raises(ValueError, match="nested"):
        loads_json(b"[" * 1001 + b"]" * 1001, max_depth=MAX_JSON_DEPTH)


def test_loads_json_depth_limit() -> None:
    ok = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert json_depth(loads_json(ok, max_depth=MAX_JSON_DEPTH), MAX_JSON_DEPTH) == MAX_JSON_DEPTH
    with pytest.raises(ValueError, match="nested"):
        loads_json("[" + ok + "]", max_depth=MAX_JSON_DEPTH)
    assert loads_json('{"a": [1, {"b": 2}]}') == {"a": [1, {"b": 2}]}


def _outcome(decode: Any, body: bytes) -> tuple[str, Any]:
    try:
        return "value", decode(body)
    except ValueError as exc:  # json's own errors, UnicodeDecodeError included
        return type(exc).__name__, str(exc)
    except RecursionError:
        return "deep", None


_OBJECT_TEXT = st.dictionaries(
    st.text(),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=8,
    ),
).map(json.dumps)


@settings(max_examples=300)
@given(
    st.one_of(
        # objects in every encoding json.loads sniffs, with and without a BOM
        st.tuples(
            _OBJECT_TEXT,
            st.sampled_from(
                [
                    "utf-8",
                    "utf-8-sig",
                    "utf-16",
                    "utf-16-le",
                    "utf-16-be",
                    "utf-32",
                    "utf-32-le",
                    "utf-32-be",
                ]
            ),
        ).map(lambda te: te[0].encode(te[1])),
        # and bytes that merely start like one: broken UTF-8, lone surrogates, NULs
        st.binary(max_size=12).map(lambda tail: b"{" + tail),
        st.binary(max_size=12),
    )
)
def test_loads_json_decodes_bytes_exactly_as_json_loads(body: bytes) -> None:
    """Its UTF-8 shortcut (objects without sniffing the encoding) changes no value or error."""
    expected = _outcome(json.loads, body)
    if expected[0] == "deep":
        return
    assert _outcome(loads_json, body) == expected


def test_json_depth_counts_without_recursing() -> None:
    value: Any = 1
    for _ in range(50_000):  # far beyond the recursion limit
        value = [value]
    assert json_depth(value, 10) == 11  # stops counting just past the limit
    assert json_depth(value, 100_000) == 50_000
    assert json_depth({"a": [1, {"b": []}]}, 10) == 4
    assert json_depth("x", 10) == 0


# --- structure_response ----------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (envelope(last_failure_at="0001-01-01T00:00:00+01:00"), "$.data.last_failure_at"),
        (envelope(last_successful_at="9999-12-31T23:59:59-01:00"), "$.data.last_successful_at"),
        (envelope(last_failure_at="2026-01-01T00:00:00" + "0" * 10_000), "$.data.last_failure_at"),
        (envelope(auth_type="x" * 100_000), "$.data.auth_type"),
        (envelope(auth_type=[1, 2]), "$.data.auth_type"),
        (envelope(name=[[[[[]]]]]), "$.data.name"),
        (envelope(event_types=[[]]), "$.data.event_types"),
        ({"data": [[[[]]]]}, "$.data"),
    ],
)
def test_hostile_fields_name_their_path(body: dict[str, Any], path: str) -> None:
    with pytest.raises(UnexpectedResponseError) as info:
        structure_response(body, WebhookEnvelope)
    assert info.value.path is not None
    assert info.value.path.startswith(path)
    assert len(str(info.value)) < 500  # the hostile value is not echoed back


def test_deep_value_in_an_ignored_field_is_harmless() -> None:
    deep: Any = []
    for _ in range(900):
        deep = [deep]
    webhook = structure_response({**envelope(), "extra": deep}, WebhookEnvelope).data
    assert webhook.id == "webhook-1"


def test_in_range_offsets_are_kept() -> None:
    webhook = structure_response(
        envelope(last_failure_at="0001-01-01T01:00:00+01:00"), WebhookEnvelope
    ).data
    assert webhook.last_failure_at is not None
    assert webhook.last_failure_at.astimezone(timezone.utc).year == 1


_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
_values = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=20,
)
_field_values = st.one_of(
    _values,
    st.sampled_from(["none", "basic", "oauth2", "success", "failure", "delivery", "bounce"]),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
)
_views = st.fixed_dictionaries(
    {},
    optional=dict.fromkeys(VIEW, _field_values),
)
_bodies = st.one_of(
    _values,
    st.fixed_dictionaries({"data": _views | _values}, optional={"message": _values}),
    st.fixed_dictionaries(
        {"data": st.fixed_dictionaries({"webhooks": st.lists(_views | _values)})}
    ),
)


# max_examples from the profile (tests/conftest.py): 400 in CI, 100 locally.
@settings(deadline=None, database=None)
@given(_bodies, st.sampled_from([WebhookEnvelope, WebhookListEnvelope, MessageEnvelope]))
def test_fuzz_any_json_value_is_a_model_or_unexpected_response(body: Any, cls: type) -> None:
    decoded = loads_json(json.dumps(body))
    try:
        result: object = structure_response(decoded, cls)
    except UnexpectedResponseError as exc:
        path = exc.path
    else:
        path = None
        _check_usable(result)
    assert path is None or path.startswith("$")


def _check_usable(result: object) -> None:
    hooks: list[Webhook] = []
    if isinstance(result, WebhookEnvelope):
        hooks = [result.data]
    elif isinstance(result, WebhookListEnvelope):
        hooks = result.data.webhooks
    for hook in hooks:  # every model is safe to use: repr, datetime arithmetic
        repr(hook)
        for moment in (hook.last_successful_at, hook.last_failure_at):
            if moment is not None:
                moment.astimezone(timezone.utc)
