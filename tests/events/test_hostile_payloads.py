"""Hostile delivery bodies: every one is a ``WebhookPayloadError`` or parses (issue 10, item 5).

A receiver answers 400 to a ``WebhookPayloadError`` and Lettr stops; any other
exception became a 500 and Lettr retried the bad delivery for ~35 hours.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lettr_async.events import WebhookPayloadError, WebhookReceiver, parse_events

from .payloads import DELIVERY, delivery, item


def _with(**fields: Any) -> bytes:
    return delivery(item("message_event", {**DELIVERY, **fields}))


def test_deeply_nested_arrays_are_a_payload_error_not_recursion_error() -> None:
    body = b"[" * 1001 + b"]" * 1001  # about 2 KB
    with pytest.raises(WebhookPayloadError, match="nested"):
        parse_events(body)


@pytest.mark.parametrize("depth", [201, 5_000, 200_000])
def test_nesting_deeper_than_the_limit_is_rejected(depth: int) -> None:
    inner = "[" * depth + "]" * depth
    body = f'[{{"msys": {{"message_event": {{"type": "delivery", "x": {inner}}}}}}}]'
    with pytest.raises(WebhookPayloadError):
        parse_events(body)


def test_reasonable_nesting_still_parses() -> None:
    nested: Any = "leaf"
    for _ in range(50):
        nested = {"n": nested}
    [event] = parse_events(_with(rcpt_meta=nested))
    assert event.metadata["n"]["n"]["n"] is not None


@pytest.mark.parametrize(
    "timestamp",
    [
        "0001-01-01T00:00:00+01:00",  # UTC would be year 0: OverflowError before
        "9999-12-31T23:59:59-01:00",  # UTC would be year 10000
        "0001-01-01T00:30:00+05:30",
    ],
)
def test_out_of_range_iso_timestamps_parse_as_none(timestamp: str) -> None:
    [event] = parse_events(_with(timestamp=timestamp))
    assert event.timestamp is None
    assert event.raw["timestamp"] == timestamp


@pytest.mark.parametrize("timestamp", ["1e400", "-1e400", "NaN", "Infinity", 10**30, "1" * 5000])
def test_out_of_range_numeric_timestamps_parse_as_none(timestamp: object) -> None:
    [event] = parse_events(_with(timestamp=timestamp))
    assert event.timestamp is None


def test_edge_timestamps_in_range_are_kept() -> None:
    [event] = parse_events(_with(timestamp="0001-01-01T01:00:00+01:00"))
    assert event.timestamp == datetime(1, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00",  # not UTF-8
        b'["\\ud800"]',  # lone surrogate: valid JSON, then an item that is not an object
        b"[" + b"1" * 5000 + b"]",  # integer longer than Python's str->int limit
        b"NaN",
    ],
)
def test_odd_bodies_are_payload_errors(body: bytes) -> None:
    with pytest.raises(WebhookPayloadError):
        parse_events(body)


def test_receiver_answers_400_to_a_nested_body() -> None:
    receiver = WebhookReceiver(dedup_store=False)
    calls: list[object] = []
    response = receiver.handle("POST", {}, b"[" * 1001 + b"]" * 1001, calls.append)
    assert response.status == 400
    assert response.body["error"] == "malformed payload"
    assert calls == []


_json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_json_values = st.recursive(
    _json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)
_known_keys = st.sampled_from(
    ["type", "event_id", "timestamp", "rcpt_to", "rcpt_meta", "tags", "rcpt_tags", "geo_ip",
     "message_id", "reason", "bounce_class", "target_link_url", "num_retries"]
)  # fmt: skip
_families = st.sampled_from(
    ["message_event", "track_event", "gen_event", "unsubscribe_event", "relay_event", "x_event"]
)
_timestamps = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.text(max_size=30),
)
_inner = st.dictionaries(_known_keys, _json_values | _timestamps, max_size=8)
_items = st.one_of(
    st.fixed_dictionaries({"msys": st.dictionaries(_families, _inner | _json_values, max_size=3)}),
    _json_values,
)


def _parse_or_payload_error(body: bytes | str) -> None:
    try:
        events = parse_events(body)
    except WebhookPayloadError:
        return
    for event in events:  # the parsed events are usable: repr, attributes, timestamps
        repr(event)
        if event.timestamp is not None:
            assert event.timestamp.tzinfo is not None
            event.timestamp.astimezone(timezone.utc)


@settings(deadline=None, database=None)  # max_examples: the profile (tests/conftest.py)
@given(st.lists(_items, max_size=5))
def test_fuzz_structured_deliveries(items: list[Any]) -> None:
    _parse_or_payload_error(json.dumps(items))


@settings(deadline=None, database=None)  # max_examples: the profile (tests/conftest.py)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_fuzz_arbitrary_bodies(body: bytes | str) -> None:
    _parse_or_payload_error(body)


@settings(max_examples=100, deadline=None, database=None)
@given(st.integers(min_value=0, max_value=3000), st.sampled_from(["[", '{"a":']))
def test_fuzz_nesting(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    _parse_or_payload_error("[" + opener * depth + "1" + closer * depth + "]")
