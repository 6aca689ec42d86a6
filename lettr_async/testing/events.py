"""Realistic webhook event payloads, as Lettr delivers them (SparkPost event format).

Why: receivers (yours, or ``lettr_async.events``) should be tested against
payloads that look like the real thing: every item wrapped by family
(``{"msys": {"message_event": {...}}}``), ``type`` as the short name,
``timestamp`` as Unix seconds in a string, ids as digit strings, and the
extras each type carries (bounce classification, click target, geo data...).
``FakeLettr.deliver`` accepts these items, or just type names.

Usage::

    from lettr_async.testing.events import make_event, make_events

    bounce = make_event("message.bounce", recipient="gone@example.com", bounce_class="25")
    batch = make_events("message.delivery", "engagement.click")
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from lettr_async._converter import loads_json
from lettr_async.events import FAMILY_CATEGORIES
from lettr_async.types import EVENT_TYPES, normalize_event_type

__all__ = [
    "EVENT_MEANINGS",
    "FAMILY_BY_CATEGORY",
    "MAX_EVENTS_FILE_BYTES",
    "event_type_of",
    "expand_event_names",
    "load_events",
    "make_event",
    "make_events",
    "with_fields",
]

FAMILY_BY_CATEGORY: Final[Mapping[str, str]] = {
    category: family for family, category in FAMILY_CATEGORIES.items()
}
"""Event category (``engagement``) -> the ``msys`` key wrapping it (``track_event``)."""

EVENT_MEANINGS: Final[Mapping[str, str]] = {
    "message.injection": "Lettr accepted a message for sending.",
    "message.delivery": "The recipient's mail server accepted the message.",
    "message.bounce": "The recipient's server refused the message for good (bounce_class).",
    "message.delay": "Delivery failed for now and will be retried.",
    "message.out_of_band": "A bounce that arrived later, after the message was accepted.",
    "message.spam_complaint": "The recipient reported the message as spam.",
    "message.policy_rejection": "Lettr refused to send the message (policy, suppression).",
    "engagement.click": "The recipient followed a tracked link (target_link_url).",
    "engagement.open": "The recipient opened the message (tracking pixel).",
    "engagement.initial_open": "The first open, seen when the top of the message loaded.",
    "engagement.amp_click": "A tracked link was followed in the AMP version.",
    "engagement.amp_open": "The AMP version was opened.",
    "engagement.amp_initial_open": "The first open of the AMP version.",
    "generation.generation_failure": "The message could not be built (template data missing).",
    "generation.generation_rejection": "Building the message was refused by policy.",
    "unsubscribe.list_unsubscribe": "The recipient used the List-Unsubscribe header.",
    "unsubscribe.link_unsubscribe": "The recipient followed an unsubscribe link.",
    "relay.relay_injection": "An inbound message reached a relay webhook.",
    "relay.relay_rejection": "An inbound message was refused by the relay.",
    "relay.relay_delivery": "An inbound message was delivered to the relay webhook.",
    "relay.relay_tempfail": "Delivering an inbound message failed for now; it is retried.",
    "relay.relay_permfail": "Delivering an inbound message failed for good.",
}
"""One line per event type (canonical name): what happened when Lettr sends it."""

MAX_EVENTS_FILE_BYTES: Final = 1024 * 1024
"""The largest payload ``load_events`` accepts."""

_USER_AGENT: Final = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"
_GEO_IP: Final[Mapping[str, Any]] = {
    "country": "CZ",
    "region": "10",
    "city": "Prague",
    "latitude": 50.0878,
    "longitude": 14.4205,
}


def _digits(count: int) -> str:
    return str(secrets.randbelow(9 * 10 ** (count - 1)) + 10 ** (count - 1))


def _engagement(click: bool) -> dict[str, Any]:
    extras: dict[str, Any] = {
        "user_agent": _USER_AGENT,
        "geo_ip": dict(_GEO_IP),
        "ip_address": "198.51.100.7",
    }
    if click:
        extras["target_link_url"] = "https://example.com/pricing?utm_source=email"
        extras["target_link_name"] = "Pricing"
    return extras


def _bounce(recipient: str) -> dict[str, Any]:
    text = f"550 5.1.1 <{recipient}>: Recipient address rejected"
    return {
        "bounce_class": "10",
        "error_code": "550",
        "reason": text,
        "raw_reason": f"{text}: User unknown in virtual mailbox table",
        "num_retries": "0",
    }


def _delay(recipient: str) -> dict[str, Any]:
    text = f"452 4.2.2 <{recipient}>: Mailbox full"
    return {
        "bounce_class": "22",
        "error_code": "452",
        "reason": text,
        "raw_reason": text,
        "num_retries": "1",
        "queue_time": "60000",
    }


def _policy(recipient: str) -> dict[str, Any]:
    return {
        "bounce_class": "25",
        "error_code": "554",
        "reason": "554 5.7.1 Message generation rejected by policy",
        "raw_reason": "554 5.7.1 Message generation rejected by policy",
    }


def _relay(short: str, recipient: str) -> dict[str, Any]:
    extras: dict[str, Any] = {
        "relay_id": "inbound-relay-" + _digits(6),
        "msg_from": "someone@example.org",
    }
    if short in ("relay_tempfail", "relay_permfail"):
        extras.update(
            error_code="421" if short == "relay_tempfail" else "550",
            reason="Delivery to the relay webhook failed",
            raw_reason="Delivery to the relay webhook failed: HTTP 500",
            num_retries="3",
        )
    elif short == "relay_rejection":
        extras.update(
            error_code="554",
            reason="Relay rejected: message too large",
            raw_reason="554 5.3.4 Message too big for system",
            remote_addr="203.0.113.9",
        )
    return extras


_EXTRAS: Final[Mapping[str, Callable[[str], dict[str, Any]]]] = {
    "message.bounce": _bounce,
    "message.out_of_band": _bounce,
    "message.delay": _delay,
    "message.policy_rejection": _policy,
    "message.spam_complaint": lambda r: {"fbtype": "abuse", "report_by": "feedback.example.net"},
    "engagement.click": lambda r: _engagement(click=True),
    "engagement.amp_click": lambda r: _engagement(click=True),
    "engagement.open": lambda r: _engagement(click=False),
    "engagement.initial_open": lambda r: _engagement(click=False),
    "engagement.amp_open": lambda r: _engagement(click=False),
    "engagement.amp_initial_open": lambda r: _engagement(click=False),
    "generation.generation_failure": lambda r: {
        "error_code": "1902",
        "reason": "Generation failed: template variable missing",
        "raw_reason": "Generation failed: substitution data missing for 'first_name'",
    },
    "generation.generation_rejection": lambda r: {
        "error_code": "1901",
        "reason": "Generation rejected by policy",
        "raw_reason": "Generation rejected by policy",
    },
    "unsubscribe.list_unsubscribe": lambda r: {"mailfrom": "bounces@example.com"},
    "unsubscribe.link_unsubscribe": lambda r: {
        "mailfrom": "bounces@example.com",
        "user_agent": _USER_AGENT,
    },
}


def make_event(
    event_type: str, *, recipient: str = "recipient@example.com", **fields: Any
) -> dict[str, Any]:
    """Build one delivery item for ``event_type``: ``{"msys": {"<family>": {...}}}``.

    ``event_type`` is a canonical (``message.bounce``), short (``bounce``) or
    legacy (``engagament.click``) name; unknown names raise ``ValueError``.
    Every item gets a fresh ``event_id``, the current ``timestamp``, message
    and transmission ids, ``rcpt_to``/``raw_rcpt_to`` for ``recipient``,
    sender, subject, campaign, template, ``rcpt_meta`` and ``tags``, plus the
    extras of its type. ``fields`` override or add inner fields
    (``event_id="1"``, ``rcpt_meta={...}``, ``bounce_class="25"``).
    """
    canonical = normalize_event_type(event_type)
    category, short = canonical.split(".", 1)
    inner: dict[str, Any] = {
        "type": short,
        "event_id": _digits(17),
        "timestamp": str(int(time.time())),
        "rcpt_to": recipient.lower(),
        "raw_rcpt_to": recipient,
    }
    if category != "relay":
        inner.update(
            message_id=secrets.token_hex(10),
            transmission_id=_digits(17),
            friendly_from="Example Shop <shop@example.com>",
            subject="Your order has shipped",
            campaign_id="order-updates",
            template_id="order-shipped",
            template_version="3",
            rcpt_meta={"customer_id": "42"},
            tags=["transactional"],
            routing_domain=recipient.rpartition("@")[2].lower() or "example.com",
        )
    if category == "relay":
        inner.update(_relay(short, recipient))
    elif canonical in _EXTRAS:
        inner.update(_EXTRAS[canonical](recipient))
    inner.update(fields)
    return {"msys": {FAMILY_BY_CATEGORY[category]: inner}}


def make_events(
    *event_types: str, recipient: str = "recipient@example.com"
) -> list[dict[str, Any]]:
    """Build a batch (a JSON array's worth) of items, one per name, in order.

    Why: a delivery is an array; this is the shortest way to a realistic one.
    """
    return [make_event(name, recipient=recipient) for name in event_types]


def event_type_of(item: Mapping[str, Any]) -> str | None:
    """The canonical type of a delivery item, or ``None`` when it is not one of the 22.

    Why: FakeLettr routes items to webhooks by type; items of unknown
    families or types (Lettr adds them over time) only reach webhooks
    subscribed to all events.
    """
    msys = item.get("msys")
    if not isinstance(msys, Mapping) or len(msys) != 1:
        return None
    ((family, inner),) = msys.items()
    category = FAMILY_CATEGORIES.get(family)
    short = inner.get("type") if isinstance(inner, Mapping) else None
    if category is None or not isinstance(short, str):
        return None
    try:
        return normalize_event_type(f"{category}.{short}")
    except ValueError:
        return None


def expand_event_names(names: Iterable[str]) -> list[str]:
    """Canonical names for ``names`` (canonical, short or legacy; ``all`` is every type).

    Raises ``ValueError`` naming the first unknown name.
    """
    expanded: list[str] = []
    for name in names:
        if name.strip().lower() == "all":
            expanded.extend(EVENT_TYPES)
        else:
            expanded.append(normalize_event_type(name))
    return expanded


def with_fields(item: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a delivery item with its inner fields overridden by ``fields``.

    Why: ``make_event`` takes overrides for new items; this applies the same
    to items from elsewhere (a saved payload). Setting ``rcpt_to`` alone
    sets ``raw_rcpt_to`` too, as one recipient has both.
    """
    msys = item.get("msys")
    if not isinstance(msys, Mapping) or len(msys) != 1:
        raise ValueError('an event item is {"msys": {"<family>": {...}}}')
    ((family, inner),) = msys.items()
    changed = {**inner, **fields}
    if "rcpt_to" in fields and "raw_rcpt_to" not in fields:
        changed["raw_rcpt_to"] = fields["rcpt_to"]
    return {**item, "msys": {family: changed}}


def load_events(raw: bytes | str) -> list[dict[str, Any]]:
    """Read delivery items from JSON: one item, or an array of them (what Lettr POSTs).

    Why: replaying a payload captured from a real delivery. At most
    ``MAX_EVENTS_FILE_BYTES``; nesting is bounded. Each item must be
    ``{"msys": {"<family>": {...}}}`` (any family: new ones are allowed);
    ``ValueError`` says which item is not.
    """
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if len(data) > MAX_EVENTS_FILE_BYTES:
        raise ValueError(f"the payload is over {MAX_EVENTS_FILE_BYTES} bytes")
    try:
        parsed = loads_json(data)
    except ValueError:
        raise ValueError("the payload is not valid JSON") from None
    items = parsed if isinstance(parsed, list) else [parsed]
    if not items:
        raise ValueError("the payload holds no events")
    for index, item in enumerate(items):
        msys = item.get("msys") if isinstance(item, dict) else None
        if (
            not isinstance(msys, dict)
            or len(msys) != 1
            or not all(isinstance(inner, dict) for inner in msys.values())
        ):
            raise ValueError(f'event {index}: expected {{"msys": {{"<family>": {{...}}}}}}')
    return items
