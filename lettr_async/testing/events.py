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
from collections.abc import Callable, Mapping
from typing import Any, Final

from lettr_async.events import FAMILY_CATEGORIES
from lettr_async.types import normalize_event_type

__all__ = ["FAMILY_BY_CATEGORY", "event_type_of", "make_event", "make_events"]

FAMILY_BY_CATEGORY: Final[Mapping[str, str]] = {
    category: family for family, category in FAMILY_CATEGORIES.items()
}
"""Event category (``engagement``) -> the ``msys`` key wrapping it (``track_event``)."""

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
