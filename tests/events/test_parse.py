"""Parsing delivery bodies into typed events."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import attrs
import pytest

from lettr_async.errors import LettrError
from lettr_async.events import (
    BounceEvent,
    ClickEvent,
    OpenEvent,
    RelayEvent,
    WebhookEvent,
    WebhookPayloadError,
    parse_events,
)
from lettr_async.types import EVENT_TYPES

from .payloads import (
    BOUNCE,
    CLICK,
    DELIVERY,
    GENERATION_FAILURE,
    LIST_UNSUBSCRIBE,
    OPEN,
    RELAY_PERMFAIL,
    RELAY_REJECTION,
    delivery,
    item,
)


def test_delivery_common_fields() -> None:
    [event] = parse_events(delivery(item("message_event", DELIVERY)))
    assert type(event) is WebhookEvent
    assert event.type == "message.delivery"
    assert event.category == "message"
    assert event.family == "message_event"
    assert event.id == "92356927693813856"
    assert event.timestamp == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert event.message_id == "000443ee14578172be22"
    assert event.recipient == "recipient@example.com"
    assert event.raw_rcpt_to == "Recipient@Example.com"
    assert event.transmission_id == "65832150921904138"
    assert event.friendly_from == "Sender <sender@example.com>"
    assert event.subject == "Your receipt"
    assert event.campaign_id == "Receipts"
    assert event.template_id == "receipt-template"
    assert event.metadata == {"customer_id": "42", "plan": "pro"}
    assert event.tags == ("receipts", "transactional")
    assert event.raw == DELIVERY
    assert event.is_known_type


def test_bounce() -> None:
    [event] = parse_events(delivery(item("message_event", BOUNCE)))
    assert isinstance(event, BounceEvent)
    assert event.type == "message.bounce"
    assert event.bounce_class == "10"
    assert event.error_code == "550"
    assert event.reason is not None
    assert event.reason.startswith("550 5.1.1")
    assert event.raw_reason is not None
    assert event.raw_reason.endswith("User unknown")
    assert event.tags == ("newsletter",)  # SparkPost's rcpt_tags spelling
    assert event.metadata == {}


def test_out_of_band_is_a_bounce() -> None:
    [event] = parse_events(delivery(item("message_event", {**BOUNCE, "type": "out_of_band"})))
    assert isinstance(event, BounceEvent)
    assert event.type == "message.out_of_band"


def test_click() -> None:
    [event] = parse_events(delivery(item("track_event", CLICK)))
    assert isinstance(event, ClickEvent)
    assert event.type == "engagement.click"
    assert event.category == "engagement"
    assert event.target_link_url == "https://example.com/pricing?utm_source=email"
    assert event.target_link_name == "Pricing"
    assert event.user_agent == "Mozilla/5.0 (X11; Linux x86_64)"
    assert event.geo_ip is not None
    assert event.geo_ip["city"] == "Prague"
    assert event.ip_address == "198.51.100.7"


@pytest.mark.parametrize("short", ["open", "initial_open", "amp_open", "amp_initial_open"])
def test_opens(short: str) -> None:
    [event] = parse_events(delivery(item("track_event", {**OPEN, "type": short})))
    assert isinstance(event, OpenEvent)
    assert event.type == f"engagement.{short}"
    assert event.user_agent == "Mozilla/5.0 (iPhone)"
    assert event.geo_ip == {"country": "US", "city": "Columbia"}


def test_amp_click_is_a_click() -> None:
    [event] = parse_events(delivery(item("track_event", {**CLICK, "type": "amp_click"})))
    assert isinstance(event, ClickEvent)
    assert event.type == "engagement.amp_click"


def test_generation_and_unsubscribe() -> None:
    gen, unsub = parse_events(
        delivery(item("gen_event", GENERATION_FAILURE), item("unsubscribe_event", LIST_UNSUBSCRIBE))
    )
    assert (gen.type, gen.category) == ("generation.generation_failure", "generation")
    assert gen.template_id == "welcome"
    assert gen.raw["reason"].startswith("Error while rendering")
    assert (unsub.type, unsub.category) == ("unsubscribe.list_unsubscribe", "unsubscribe")
    assert unsub.campaign_id == "Newsletter"


def test_relay_events() -> None:
    permfail, rejection = parse_events(
        delivery(item("relay_event", RELAY_PERMFAIL), item("relay_event", RELAY_REJECTION))
    )
    assert isinstance(permfail, RelayEvent)
    assert permfail.type == "relay.relay_permfail"
    assert permfail.category == "relay"
    assert permfail.relay_id == "my-relay-webhook"
    assert permfail.msg_from == "sender@example.org"
    assert permfail.recipient == "inbound@relay.example.com"
    assert permfail.error_code == "422"
    assert permfail.reason == "Unprocessable Entity"
    assert permfail.raw_reason == "422 Unprocessable Entity"
    assert permfail.num_retries == "2"
    assert isinstance(rejection, RelayEvent)
    assert rejection.type == "relay.relay_rejection"
    assert rejection.remote_addr == "203.0.113.9"


def test_every_canonical_type_round_trips() -> None:
    families = {
        "message": "message_event",
        "engagement": "track_event",
        "generation": "gen_event",
        "unsubscribe": "unsubscribe_event",
        "relay": "relay_event",
    }
    items = []
    for name in EVENT_TYPES:
        category, short = name.split(".", 1)
        items.append(item(families[category], {"type": short, "event_id": name}))
    events = parse_events(delivery(*items))
    assert [e.type for e in events] == list(EVENT_TYPES)
    assert all(e.is_known_type for e in events)


def test_legacy_and_prefixed_type_names() -> None:
    a, b = parse_events(
        delivery(
            item("track_event", {"type": "engagament.click"}),
            item("message_event", {"type": "message.delay"}),
        )
    )
    assert isinstance(a, ClickEvent)
    assert a.type == "engagement.click"
    assert b.type == "message.delay"


def test_unknown_family_type_and_fields_never_fail() -> None:
    body = delivery(
        item("ab_test_event", {"type": "ab_test_completed", "event_id": "1", "ab_test": {}}),
        item("message_event", {"type": "sms_status", "brand_new_field": [1, 2]}),
        item("track_event", {"event_id": "3"}),
        {"something": "else", "type": "ping"},
    )
    ab, sms, untyped, bare = parse_events(body)
    assert type(ab) is WebhookEvent
    assert ab.type == "ab_test_event.ab_test_completed"
    assert ab.category == ab.family == "ab_test_event"
    assert ab.raw["ab_test"] == {}
    assert not ab.is_known_type
    assert (sms.type, sms.category) == ("message.sms_status", "message")
    assert sms.raw["brand_new_field"] == [1, 2]
    assert untyped.type == "engagement.unknown"
    assert (bare.type, bare.category) == ("ping", "unknown")
    assert bare.raw == {"something": "else", "type": "ping"}


def test_ping_and_empty_bodies_yield_no_events() -> None:
    assert parse_events(b"[]") == []
    assert parse_events('[{"msys": {}}]') == []


def test_loose_field_types() -> None:
    [event] = parse_events(
        delivery(
            item(
                "message_event",
                {
                    "type": "delivery",
                    "event_id": 12345,
                    "timestamp": 1700000000.5,
                    "template_id": 7,
                    "rcpt_meta": "not an object",
                    "tags": ["ok", 3, None],
                    "subject": {"not": "a string"},
                    "campaign_id": True,
                },
            )
        )
    )
    assert event.id == "12345"
    assert event.timestamp == datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=timezone.utc)
    assert event.template_id == "7"
    assert event.metadata == {}
    assert event.tags == ("ok",)
    assert event.subject is None
    assert event.campaign_id is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1700000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)),
        ("2024-01-15T10:30:00+01:00", datetime(2024, 1, 15, 9, 30, tzinfo=timezone.utc)),
        ("2024-01-15T10:30:00Z", datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)),
        ("2024-01-15T10:30:00", datetime(2024, 1, 15, 10, 30, tzinfo=timezone.utc)),
        ("yesterday", None),
        ("", None),
        ("nan", None),
        ("1e300", None),
        (None, None),
        (False, None),
        ([1], None),
    ],
)
def test_timestamps(value: object, expected: datetime | None) -> None:
    [event] = parse_events(json.dumps([item("message_event", {"timestamp": value})]))
    assert event.timestamp == expected
    if event.timestamp is not None:
        assert event.timestamp.utcoffset() is not None


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[{]",
        b"\xff\xfe\x00garbage",
        b'{"msys": {}}',
        b'"a string"',
        b"null",
        b"[1, 2]",
        b'[["nested"]]',
        b'[{"msys": []}]',
        b'[{"msys": {"message_event": "oops"}}]',
    ],
)
def test_malformed_bodies(body: bytes) -> None:
    with pytest.raises(WebhookPayloadError):
        parse_events(body)


def test_payload_error_is_a_lettr_error_and_a_value_error() -> None:
    with pytest.raises(ValueError, match="JSON array") as info:
        parse_events(b"{}")
    assert isinstance(info.value, LettrError)


def test_events_are_frozen_slotted_and_hashable() -> None:
    [event] = parse_events(delivery(item("track_event", CLICK)))
    assert not hasattr(event, "__dict__")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.type = "x"  # type: ignore[misc]
    assert hash(event) == hash(parse_events(delivery(item("track_event", CLICK)))[0])
    assert "raw=" not in repr(event)


def test_match_on_event_classes() -> None:
    events = parse_events(
        delivery(
            item("message_event", BOUNCE),
            item("track_event", CLICK),
            item("relay_event", RELAY_PERMFAIL),
            item("message_event", DELIVERY),
        )
    )
    seen = []
    for event in events:
        match event:
            case BounceEvent(bounce_class=cls):
                seen.append(f"bounce {cls}")
            case ClickEvent(target_link_url=url):
                seen.append(f"click {url}")
            case RelayEvent(relay_id=relay):
                seen.append(f"relay {relay}")
            case WebhookEvent(type=kind):
                seen.append(kind)
    assert seen == [
        "bounce 10",
        "click https://example.com/pricing?utm_source=email",
        "relay my-relay-webhook",
        "message.delivery",
    ]
