"""Turn a webhook delivery body into typed events.

A hand-written mapping rather than a generic converter: the wire format is
loose (unknown families, types and fields appear over time, numbers sometimes
arrive as strings), and one pass over each dict is both the fastest and the
most forgiving way to read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Final

from lettr_async._converter import MAX_JSON_DEPTH, loads_json
from lettr_async.events._errors import WebhookPayloadError
from lettr_async.events._models import (
    BounceEvent,
    ClickEvent,
    OpenEvent,
    RelayEvent,
    WebhookEvent,
)
from lettr_async.types import normalize_event_type

__all__ = ["FAMILY_CATEGORIES", "parse_event", "parse_events"]

FAMILY_CATEGORIES: Final[Mapping[str, str]] = {
    "message_event": "message",
    "track_event": "engagement",
    "gen_event": "generation",
    "unsubscribe_event": "unsubscribe",
    "relay_event": "relay",
}
"""Known ``msys`` family keys and the event category each one carries."""

_BOUNCE_TYPES: Final = frozenset({"message.bounce", "message.out_of_band"})
_CLICK_TYPES: Final = frozenset({"engagement.click", "engagement.amp_click"})
_OPEN_TYPES: Final = frozenset(
    {
        "engagement.open",
        "engagement.initial_open",
        "engagement.amp_open",
        "engagement.amp_initial_open",
    }
)


def _str(value: object) -> str | None:
    """Read a scalar the way SparkPost-style payloads send it: str, sometimes int."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _timestamp(value: object) -> datetime | None:
    """Parse Unix seconds (string or number) or ISO 8601 into an aware UTC datetime."""
    seconds: float
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value
    elif isinstance(value, str):
        try:
            seconds = float(value)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
                if parsed.tzinfo is None:
                    return parsed.replace(tzinfo=timezone.utc)
                # Near year 1 or 9999 an offset pushes UTC out of range.
                return parsed.astimezone(timezone.utc)
            except (ValueError, OverflowError):
                return None
    else:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _short(key: str, limit: int = 40) -> str:
    """``repr`` of a sender-chosen key, cut short for error messages."""
    text = repr(key)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _tags(data: Mapping[str, Any]) -> tuple[str, ...]:
    value = data.get("tags")
    if value is None:
        value = data.get("rcpt_tags")  # SparkPost's own spelling
    if isinstance(value, list):
        return tuple(tag for tag in value if isinstance(tag, str))
    return ()


def _mapping(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, dict) else None


def _event_type(category: str, short: object) -> str:
    if not isinstance(short, str) or not short:
        return f"{category}.unknown"
    if "." not in short:
        try:
            return normalize_event_type(f"{category}.{short}")
        except ValueError:
            pass
    try:
        return normalize_event_type(short)
    except ValueError:
        return short if "." in short else f"{category}.{short}"


def parse_event(family: str, data: Mapping[str, Any]) -> WebhookEvent:
    """Build one event from its family key and inner object.

    Public so receivers of other shapes (a queue message holding one event,
    say) can reuse the mapping. Never fails on unknown families, types or
    fields: they yield a plain ``WebhookEvent`` with everything in ``raw``.
    """
    category = FAMILY_CATEGORIES.get(family, family)
    event_type = _event_type(category, data.get("type"))
    common: dict[str, Any] = {
        "type": event_type,
        "category": category,
        "family": family,
        "id": _str(data.get("event_id")),
        "timestamp": _timestamp(data.get("timestamp")),
        "message_id": _str(data.get("message_id")),
        "recipient": _str(data.get("rcpt_to")),
        "transmission_id": _str(data.get("transmission_id")),
        "raw_rcpt_to": _str(data.get("raw_rcpt_to")),
        "friendly_from": _str(data.get("friendly_from")),
        "subject": _str(data.get("subject")),
        "campaign_id": _str(data.get("campaign_id")),
        "template_id": _str(data.get("template_id")),
        "metadata": _mapping(data.get("rcpt_meta")) or {},
        "tags": _tags(data),
        "raw": data,
    }
    if category == "relay":
        return RelayEvent(
            **common,
            relay_id=_str(data.get("relay_id")),
            msg_from=_str(data.get("msg_from")),
            error_code=_str(data.get("error_code")),
            reason=_str(data.get("reason")),
            raw_reason=_str(data.get("raw_reason")),
            remote_addr=_str(data.get("remote_addr")),
            num_retries=_str(data.get("num_retries")),
        )
    if event_type in _BOUNCE_TYPES:
        return BounceEvent(
            **common,
            bounce_class=_str(data.get("bounce_class")),
            reason=_str(data.get("reason")),
            raw_reason=_str(data.get("raw_reason")),
            error_code=_str(data.get("error_code")),
        )
    if event_type in _CLICK_TYPES:
        return ClickEvent(
            **common,
            target_link_url=_str(data.get("target_link_url")),
            target_link_name=_str(data.get("target_link_name")),
            user_agent=_str(data.get("user_agent")),
            geo_ip=_mapping(data.get("geo_ip")),
            ip_address=_str(data.get("ip_address")),
        )
    if event_type in _OPEN_TYPES:
        return OpenEvent(
            **common,
            user_agent=_str(data.get("user_agent")),
            geo_ip=_mapping(data.get("geo_ip")),
            ip_address=_str(data.get("ip_address")),
        )
    return WebhookEvent(**common)


def parse_events(body: bytes | str) -> list[WebhookEvent]:
    """Parse a delivery body (a JSON array of ``{"msys": {...}}`` items) into events.

    Why it exists: every receiver needs the same forgiving-but-strict reading.
    Unknown families, types and fields never fail; an empty ``{"msys": {}}``
    item (sent when a webhook is created or tested) yields no event; an item
    without ``msys`` yields a ``WebhookEvent`` of category ``unknown`` holding
    the whole item in ``raw``. Raises ``WebhookPayloadError`` when the body is
    not UTF-8 (UTF-16 and UTF-32 bytes included), not JSON, not an array,
    nested more than ``MAX_JSON_DEPTH`` levels, or holds items (or family
    entries) that are not objects, because such a body will never become
    valid on a retry. It raises nothing else, whatever the body holds.
    """
    if not isinstance(body, str):
        try:
            # Strictly UTF-8 (a leading BOM allowed): json.loads would guess
            # UTF-16/32 from the bytes and accept encoded surrogates.
            body = bytes(body).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise WebhookPayloadError(
                f"delivery body is not UTF-8: {exc.reason} at byte {exc.start}"
            ) from None
    try:
        data = loads_json(body, max_depth=MAX_JSON_DEPTH)
    except ValueError as exc:  # JSON and nesting errors
        raise WebhookPayloadError(f"delivery body is not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise WebhookPayloadError(
            f"delivery body must be a JSON array of events, not {type(data).__name__}"
        )
    events: list[WebhookEvent] = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise WebhookPayloadError(
                f"delivery item {index} must be a JSON object, not {type(item).__name__}"
            )
        if "msys" not in item:
            events.append(
                WebhookEvent(
                    type=_str(item.get("type")) or "unknown",
                    category="unknown",
                    family="unknown",
                    id=_str(item.get("event_id")),
                    timestamp=_timestamp(item.get("timestamp")),
                    raw=item,
                )
            )
            continue
        msys = item["msys"]
        if not isinstance(msys, dict):
            raise WebhookPayloadError(f"delivery item {index}: 'msys' must be a JSON object")
        for family, inner in msys.items():
            if not isinstance(inner, dict):
                raise WebhookPayloadError(
                    f"delivery item {index}: {_short(family)} must be a JSON object"
                )
            events.append(parse_event(family, inner))
    return events
