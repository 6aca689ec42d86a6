"""Realistic delivery payloads (SparkPost event format, as Lettr sends them).

And ``Recorder``, the handler the receiver tests wire to every route.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from lettr_async.events import WebhookEvent


class Recorder:
    """A delivery handler that records each batch; fails the next ``failures`` calls."""

    def __init__(self) -> None:
        self.calls: list[list[WebhookEvent]] = []
        self.failures = 0

    def reset(self) -> None:
        """Forget every call and planned failure (for a handler shared between tests)."""
        self.calls.clear()
        self.failures = 0

    def __call__(self, events: list[WebhookEvent]) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("handler failed on purpose")
        self.calls.append(events)

    async def handle_async(self, events: list[WebhookEvent]) -> None:
        """The same, as a coroutine handler that yields to the loop first."""
        await asyncio.sleep(0)
        self(events)

    @property
    def ids(self) -> list[str | None]:
        """The event ids received, in order, across every call."""
        return [e.id for call in self.calls for e in call]


DELIVERY: dict[str, Any] = {
    "type": "delivery",
    "event_id": "92356927693813856",
    "timestamp": "1700000000",
    "message_id": "000443ee14578172be22",
    "transmission_id": "65832150921904138",
    "rcpt_to": "recipient@example.com",
    "raw_rcpt_to": "Recipient@Example.com",
    "friendly_from": "Sender <sender@example.com>",
    "subject": "Your receipt",
    "campaign_id": "Receipts",
    "template_id": "receipt-template",
    "template_version": "3",
    "rcpt_meta": {"customer_id": "42", "plan": "pro"},
    "tags": ["receipts", "transactional"],
    "ip_address": "127.0.0.1",
    "msg_size": "1337",
    "num_retries": "0",
    "queue_time": "12",
    "routing_domain": "example.com",
}

BOUNCE: dict[str, Any] = {
    "type": "bounce",
    "event_id": "92356927693813857",
    "timestamp": "1700000060",
    "message_id": "000443ee14578172be23",
    "transmission_id": "65832150921904139",
    "rcpt_to": "nobody@example.com",
    "raw_rcpt_to": "nobody@example.com",
    "friendly_from": "sender@example.com",
    "bounce_class": "10",
    "error_code": "550",
    "reason": "550 5.1.1 <nobody@example.com>: Recipient address rejected",
    "raw_reason": "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown",
    "rcpt_meta": {},
    "rcpt_tags": ["newsletter"],
}

CLICK: dict[str, Any] = {
    "type": "click",
    "event_id": "92356927693813858",
    "timestamp": "1700000120",
    "message_id": "000443ee14578172be22",
    "transmission_id": "65832150921904138",
    "rcpt_to": "recipient@example.com",
    "target_link_url": "https://example.com/pricing?utm_source=email",
    "target_link_name": "Pricing",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
    "geo_ip": {"country": "CZ", "region": "10", "city": "Prague", "latitude": 50.08},
    "ip_address": "198.51.100.7",
    "rcpt_meta": {"customer_id": "42"},
    "tags": [],
}

OPEN: dict[str, Any] = {
    "type": "open",
    "event_id": "92356927693813859",
    "timestamp": "1700000180",
    "message_id": "000443ee14578172be22",
    "rcpt_to": "recipient@example.com",
    "user_agent": "Mozilla/5.0 (iPhone)",
    "geo_ip": {"country": "US", "city": "Columbia"},
}

GENERATION_FAILURE: dict[str, Any] = {
    "type": "generation_failure",
    "event_id": "92356927693813860",
    "timestamp": "1700000240",
    "transmission_id": "65832150921904140",
    "rcpt_to": "recipient@example.com",
    "template_id": "welcome",
    "error_code": "1902",
    "reason": "Error while rendering part html: substitution language error",
}

LIST_UNSUBSCRIBE: dict[str, Any] = {
    "type": "list_unsubscribe",
    "event_id": "92356927693813861",
    "timestamp": "1700000300",
    "message_id": "000443ee14578172be22",
    "rcpt_to": "recipient@example.com",
    "campaign_id": "Newsletter",
    "mailfrom": "bounces@example.com",
}

RELAY_PERMFAIL: dict[str, Any] = {
    "type": "relay_permfail",
    "event_id": "92356927693813862",
    "timestamp": "1700000360",
    "relay_id": "my-relay-webhook",
    "msg_from": "sender@example.org",
    "rcpt_to": "inbound@relay.example.com",
    "customer_id": "1337",
    "binding": "inbound",
    "error_code": "422",
    "reason": "Unprocessable Entity",
    "raw_reason": "422 Unprocessable Entity",
    "num_retries": "2",
    "delv_method": "http",
}

RELAY_REJECTION: dict[str, Any] = {
    "type": "relay_rejection",
    "event_id": "92356927693813863",
    "timestamp": "1700000420",
    "relay_id": "my-relay-webhook",
    "msg_from": "spammer@example.net",
    "rcpt_to": "inbound@relay.example.com",
    "error_code": "554",
    "reason": "554 5.7.1 Message rejected",
    "raw_reason": "554 5.7.1 Message rejected as spam",
    "remote_addr": "203.0.113.9",
}


def item(family: str, inner: dict[str, Any]) -> dict[str, Any]:
    """Wrap one event the way a delivery does."""
    return {"msys": {family: inner}}


def delivery(*items: dict[str, Any]) -> bytes:
    """Encode items as a delivery body."""
    return json.dumps(list(items)).encode()


def event(event_id: str, short_type: str = "delivery", family: str = "message_event") -> bytes:
    """A one-event delivery body with a chosen id."""
    return delivery(item(family, {**DELIVERY, "type": short_type, "event_id": event_id}))
