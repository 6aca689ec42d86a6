"""The fast converter (no detailed validation) agrees with the reference one (issue 23).

``structure_response`` tries ``_fast`` first and only runs the detailed
``converter`` to name the failing path, so the two must accept exactly the
same bodies and build equal models.
"""

from __future__ import annotations

import dis
import json
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lettr_async import UnexpectedResponseError
from lettr_async._converter import (
    MessageEnvelope,
    WebhookEnvelope,
    WebhookListEnvelope,
    _fast,
    converter,
    loads_json,
    structure_response,
)
from lettr_async.models import Webhook
from lettr_async.types import AuthType, LastStatus

from .test_converter_hardening import _bodies, envelope


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
