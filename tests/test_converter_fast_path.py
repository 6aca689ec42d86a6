"""The fast converter (no detailed validation) agrees with the reference one (issue 23).

``structure_response`` tries ``_fast`` first and only runs the detailed
``converter`` to name the failing path, so the two must accept exactly the
same bodies and build equal models. The same holds for ``structure_webhook``
(get, create, update) and ``_fast``'s hand-written ``Webhook`` hook: a
differential over generated bodies, valid and broken, and a count proving a
valid body never falls back to the slow reference.
"""

from __future__ import annotations

import dis
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lettr_async import UnexpectedResponseError, _converter
from lettr_async._converter import (
    MessageEnvelope,
    WebhookEnvelope,
    WebhookListEnvelope,
    _fast,
    _fromisoformat_utc_z,
    _structure_webhook,
    _timestamp,
    converter,
    loads_json,
    structure_response,
    structure_webhook,
)
from lettr_async.models import Webhook
from lettr_async.types import EVENT_TYPES, AuthType, LastStatus

from .test_converter_hardening import _bodies, _values, envelope


def _outcome(target: Any, body: Any, cls: type) -> tuple[str, object]:
    try:
        return "ok", target.structure(body, cls)
    except Exception:
        return "error", None


@settings(deadline=None, database=None)  # max_examples: the profile (tests/conftest.py)
@given(_bodies, st.sampled_from([WebhookEnvelope, WebhookListEnvelope, MessageEnvelope]))
def test_fast_and_detailed_converters_agree(body: Any, cls: type) -> None:
    decoded = loads_json(json.dumps(body))
    assert _outcome(_fast, decoded, cls) == _outcome(converter, decoded, cls)


def test_enum_members_come_from_a_lookup_by_value() -> None:
    webhook = structure_response(
        envelope(auth_type="oauth2", last_status="failure"), WebhookEnvelope
    ).data
    assert webhook.auth_type is AuthType.OAUTH2
    assert webhook.last_status is LastStatus.FAILURE


@pytest.mark.parametrize("value", ["OAUTH2", "oauth2 ", 2, None, ["none"]])
def test_an_unknown_enum_value_is_named_not_echoed(value: object) -> None:
    with pytest.raises(UnexpectedResponseError) as info:
        structure_response(envelope(auth_type=value), WebhookEnvelope)
    assert info.value.path == "$.data.auth_type"
    assert str(info.value) == (
        "unexpected response shape: invalid value for type, expected AuthType @ $.data.auth_type"
    )


def test_every_bad_field_is_named_although_the_fast_path_stops_at_the_first() -> None:
    with pytest.raises(UnexpectedResponseError) as info:
        structure_response(envelope(name=1, enabled="yes"), WebhookEnvelope)
    assert "$.data.name" in str(info.value)
    assert "$.data.enabled" in str(info.value)


def _calls_in(function: Any) -> int:
    """How many calls a function's bytecode makes (``CALL``, ``CALL_FUNCTION``, ...)."""
    return sum(op.opname.startswith("CALL") for op in dis.get_instructions(function))


def test_a_webhook_is_built_without_a_call_per_field() -> None:
    """Pins the ~5 k per ``Webhook`` of issue 23: a frozen *slotted* attrs class sets
    each of the ten fields through ``object.__setattr__``; the frozen dict class
    stores into its ``__dict__`` (one call left: attrs' unused setattr lookup)."""
    assert _calls_in(Webhook.__init__) <= 1
    webhook = structure_response(envelope(), WebhookEnvelope).data
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        webhook.name = "changed"  # type: ignore[misc]
    assert hash(webhook) == hash(attrs.evolve(webhook))


@pytest.mark.parametrize("cls", [WebhookEnvelope, WebhookListEnvelope, MessageEnvelope])
def test_envelopes_are_built_without_any_call(cls: type) -> None:
    """Envelopes only carry ``.data`` out of ``structure_response``: no frozen setattr calls."""
    assert _calls_in(vars(cls)["__init__"]) == 0


@pytest.mark.parametrize(
    "names", [[{"a": 1}], [["message.delivery"]], [1], ["message.delivery", {}], [None]]
)
def test_event_types_with_a_non_string_are_named(names: list[Any]) -> None:
    """The C superset check (the fast path) must not change the error of an unhashable item."""
    with pytest.raises(UnexpectedResponseError) as info:
        structure_response(envelope(event_types=names), WebhookEnvelope)
    assert info.value.path == "$.data.event_types"
    assert str(info.value) == (
        "unexpected response shape: invalid value for type, expected list[str] | None"
        " @ $.data.event_types"
    )


def test_canonical_event_types_are_kept_in_a_list_of_their_own() -> None:
    names = ["message.delivery", "engagement.open", "message.delivery"]
    body = envelope(event_types=names)
    webhook = structure_response(body, WebhookEnvelope).data
    assert webhook.event_types == names
    assert webhook.event_types is not body["data"]["event_types"]


# --- structure_webhook and _fast's Webhook hook against the reference ------------

_FRACTIONS = st.text("0123456789", max_size=9).map(lambda digits: "." + digits if digits else "")
_AWARE = st.sampled_from(["Z", "+00:00", "-00:00", "+05:30", "-12:00", "+14:00", "+0130"])
if sys.version_info >= (3, 11):
    _GOOD_FRACTIONS, _GOOD_AWARE = _FRACTIONS, _AWARE
else:  # 3.10's fromisoformat: three or six fractional digits, offsets with a colon
    _GOOD_FRACTIONS = st.sampled_from(["", ".000", ".123", ".000000", ".999999"])
    _GOOD_AWARE = st.sampled_from(["Z", "+00:00", "-00:00", "+05:30", "-12:00", "+14:00"])
_good_timestamps = st.builds(
    lambda moment, fraction, offset: moment.isoformat(timespec="seconds") + fraction + offset,
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)),
    _GOOD_FRACTIONS,
    _GOOD_AWARE,
)
_odd_timestamps = st.one_of(
    st.builds(
        lambda moment, fraction, offset: moment.isoformat() + fraction + offset,
        st.datetimes(),
        _FRACTIONS,
        _AWARE | st.sampled_from(["", "z", " Z", "ZZ", "+01:00Z", "+24:00", "-23:59:59.999999"]),
    ),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",  # out of range in UTC
            "9999-12-31T23:59:59-01:00",
            "2024-01-15Z",
            "2024-01-15T10:30:00.Z",
            "20240115T103000Z",
            "2024-W03-1T10:30Z",
            "2024-01-15T24:00:00Z",
        ]
    ),
)
_EVENT_NAMES = st.sampled_from([*EVENT_TYPES, "delivery", "open", "newer.event", ""])
_VALID: dict[str, st.SearchStrategy[Any]] = {
    "id": st.text(max_size=8),
    "name": st.text(max_size=8),
    "url": st.text(max_size=8) | st.just("https://user:secret@example.com/hook"),
    "enabled": st.booleans(),
    "auth_type": st.sampled_from([member.value for member in AuthType]),
    "has_auth_credentials": st.booleans(),
    "event_types": st.none() | st.lists(_EVENT_NAMES, max_size=4),
    "last_successful_at": st.none() | _good_timestamps,
    "last_failure_at": st.none() | _good_timestamps,
    "last_status": st.none() | st.sampled_from([member.value for member in LastStatus]),
}
"""A valid value per ``Webhook`` field: a field added to the model needs one here."""

_FIELDS = attrs.fields(Webhook)
_valid_views = st.builds(
    lambda view, extra: {**extra, **view},
    st.fixed_dictionaries(
        {f.name: _VALID[f.name] for f in _FIELDS if f.default is attrs.NOTHING},
        optional={f.name: _VALID[f.name] for f in _FIELDS if f.default is not attrs.NOTHING},
    ),
    st.dictionaries(st.text(max_size=6), _values, max_size=2),  # unknown keys: ignored
)
_bad_values = st.one_of(
    _values,
    _odd_timestamps,
    st.sampled_from(
        [10**30, -(2**64), float("nan"), [], {}, [[]], ["message.delivery", {}], "NONE", "basic "]
    ),
    st.sampled_from(["none", "basic", "oauth2", "success", "failure", "true", ""]),
)


@st.composite
def _broken_views(draw: st.DrawFn) -> dict[str, Any]:
    """A valid view with one to three fields dropped, nulled or replaced by anything."""
    view: dict[str, Any] = draw(_valid_views)
    names = draw(st.lists(st.sampled_from([f.name for f in _FIELDS]), min_size=1, max_size=3))
    for name in names:
        change = draw(st.sampled_from(["drop", "null", "replace"]))
        if change == "drop":
            view.pop(name, None)
        else:
            view[name] = None if change == "null" else draw(_bad_values)
    return view


_views = _valid_views | _broken_views()
_webhook_bodies = st.one_of(
    _bodies,
    st.fixed_dictionaries(
        {"data": _views}, optional={"message": st.none() | st.text(max_size=6) | _values}
    ),
)


def _result(structure: Callable[[Any], object], body: Any) -> tuple[object, ...]:
    """The model (and its repr: ``AuthType.BASIC == "basic"``), or the typed error."""
    try:
        model = structure(body)
    except UnexpectedResponseError as exc:
        return ("error", str(exc), exc.path)
    return ("ok", model, repr(model))


def _reference(body: Any) -> tuple[object, ...]:
    """What the detailed reference converter makes of a body: the model, or a failure."""
    try:
        model = converter.structure(body, WebhookEnvelope).data
    except Exception:
        return ("error",)
    return ("ok", model, repr(model))


def _agreed(body: Any) -> tuple[object, ...]:
    """``structure_webhook``'s outcome, checked equal to ``structure_response``'s.

    The error is equal, message and path: ``structure_response`` only ever
    builds it from the reference converter's exception. Shortened to the
    reference's ``("error",)``.
    """
    got = _result(structure_webhook, body)
    assert got == _result(lambda b: structure_response(b, WebhookEnvelope).data, body)
    return got[:1] if got[0] == "error" else got


@settings(deadline=None, database=None)  # max_examples: the profile (tests/conftest.py)
@given(_webhook_bodies)
def test_structure_webhook_agrees_with_the_reference_converter(body: Any) -> None:
    decoded = loads_json(json.dumps(body))
    assert _agreed(decoded) == _reference(decoded)


@settings(deadline=None, database=None)
@given(_views)
def test_the_fast_webhook_hook_builds_what_the_reference_builds(view: dict[str, Any]) -> None:
    decoded = loads_json(json.dumps(view))
    try:
        expected = converter.structure(decoded, Webhook)
    except Exception:
        with pytest.raises((KeyError, TypeError, ValueError)):
            _structure_webhook(decoded, Webhook)
    else:
        webhook = _structure_webhook(decoded, Webhook)
        assert (webhook, repr(webhook)) == (expected, repr(expected))


_FULL_VIEW: dict[str, Any] = {
    "id": "webhook-1",
    "name": "Orders",
    "url": "https://example.com/hook",
    "enabled": True,
    "auth_type": "basic",
    "has_auth_credentials": True,
    "event_types": ["message.delivery", "open"],
    "last_successful_at": "2024-01-15T10:30:00.1234567Z",
    "last_failure_at": "2024-01-15T10:30:00+01:00",
    "last_status": "failure",
}
"""Every field set and not null, so dropping any one of them changes the model."""
_WRONG: list[Any] = [0, 1, -(2**64), 10**30, 1.5, float("nan"), True, False, None, "", "x", "none"]
_WRONG += ["success", "2024-01-15T10:30:00Z", [], ["message.delivery"], [[]], {}, {"a": 1}]


def test_every_field_with_every_wrong_value_agrees_with_the_reference() -> None:
    """Exhaustive where the fuzzers are random: one field (or the message) at a time."""
    assert set(_FULL_VIEW) == {f.name for f in _FIELDS}
    for name in _FULL_VIEW:
        dropped = {key: value for key, value in _FULL_VIEW.items() if key != name}
        for view in [dropped, *({**_FULL_VIEW, name: value} for value in _WRONG)]:
            body = loads_json(json.dumps({"data": view}))
            assert _agreed(body) == _reference(body), (name, view.get(name))
    for message in _WRONG:
        body = loads_json(json.dumps({"message": message, "data": _FULL_VIEW}))
        assert _agreed(body) == _reference(body), ("message", message)


class _Fallbacks:
    """Counts what the fast paths hand on, then does it.

    ``structure_webhook`` hands a body it rejects to ``structure_response``,
    ``structure_response`` one that ``_fast`` rejects to the reference
    ``converter``: both are patched into ``_converter`` with these methods.
    """

    def __init__(self) -> None:
        self.to_envelope = 0
        self.to_reference = 0

    def structure_response(self, body: Any, cls: type[Any]) -> object:
        self.to_envelope += 1
        return structure_response(body, cls)

    def structure(self, body: Any, cls: type) -> object:
        self.to_reference += 1
        return converter.structure(body, cls)


@contextmanager
def _counting_fallbacks() -> Iterator[_Fallbacks]:
    fallbacks = _Fallbacks()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_converter, "structure_response", fallbacks.structure_response)
        patch.setattr(_converter, "converter", fallbacks)
        yield fallbacks


@settings(deadline=None, database=None)
@given(st.lists(_valid_views, min_size=1, max_size=3), st.none() | st.text(max_size=6))
def test_a_valid_body_never_falls_back(views: list[dict[str, Any]], message: str | None) -> None:
    """Counted, not timed: a field the fast hook mishandles would fall back silently."""
    bodies = [loads_json(json.dumps({"message": message, "data": view})) for view in views]
    bodies.append({"data": bodies[0]["data"]})  # no message at all
    listed = loads_json(json.dumps({"data": {"webhooks": views}}))
    with _counting_fallbacks() as fallbacks:
        for body in bodies:
            assert structure_webhook(body) == structure_response(body, WebhookEnvelope).data
        assert len(structure_response(listed, WebhookListEnvelope).data.webhooks) == len(views)
        assert (fallbacks.to_envelope, fallbacks.to_reference) == (0, 0)
        with pytest.raises(UnexpectedResponseError):
            structure_webhook({"data": {**bodies[0]["data"], "enabled": "yes"}})
        # The count does see a fallback: structure_webhook's, then _fast's.
        assert (fallbacks.to_envelope, fallbacks.to_reference) == (1, 1)


def test_the_fast_webhook_hook_reads_every_field() -> None:
    """A field added to ``Webhook`` but not to ``_structure_webhook`` fails here."""
    assert _fast.get_structure_hook(Webhook) is _structure_webhook
    constants = set(_structure_webhook.__code__.co_consts)
    assert {f.name for f in _FIELDS} <= constants


def _parsed(text: str) -> tuple[object, ...]:
    try:
        moment = _timestamp(text, None)
    except ValueError as exc:
        return ("error", type(exc), str(exc))
    return ("ok", moment, repr(moment))


@settings(deadline=None, database=None)
@given(_good_timestamps | _odd_timestamps | st.text("0123456789-:T.+Zz ,W", max_size=30))
def test_timestamps_parse_as_with_the_python_3_10_rewrite(text: str) -> None:
    """Python >= 3.11 reads "Z" itself: the same value or error as rewriting it first."""
    parsed = _parsed(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_converter, "_fromisoformat", _fromisoformat_utc_z)
        assert parsed == _parsed(text)
