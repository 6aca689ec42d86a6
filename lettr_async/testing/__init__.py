"""A contract-faithful fake Lettr server, shipped so users can test their own code.

``FakeLettr`` serves Lettr's webhooks API from memory on ``aiohttp.web``:
same paths under ``/api``, same validation, error bodies and rate-limit
headers. ``Fault`` queues misbehaviour (delays, error statuses, dropped
connections, broken JSON); ``RecordedRequest`` is what it saw on the wire.
``FakeLettr.deliver`` sends event batches to the webhooks like Lettr does
(auth, retries, ``410 Gone``) and returns ``DeliveryReport``s; ``trigger``
(and ``WebhookSender``) is the same engine aimed at any one ``Endpoint``,
the one ``lettr-webhooks trigger`` runs. ``lettr_async.testing.events``
builds realistic event items.
Run ``python -m lettr_async.testing`` for a standalone server.
"""

from __future__ import annotations

from ._delivery import (
    DEFAULT_ATTEMPT_TIMEOUT,
    DEFAULT_RETRY_SCHEDULE,
    DEFAULT_TIME_SCALE,
    MAX_ANSWER_BYTES,
    USER_AGENT,
    AttemptResult,
    DeliveryReport,
    Endpoint,
)
from ._faults import Fault
from ._sender import WebhookSender, build_items, plan_posts, trigger
from ._server import FakeLettr, RecordedRequest
from .events import (
    EVENT_MEANINGS,
    FAMILY_BY_CATEGORY,
    MAX_EVENTS_FILE_BYTES,
    event_type_of,
    load_events,
    make_event,
    make_events,
)

__all__ = [
    "DEFAULT_ATTEMPT_TIMEOUT",
    "DEFAULT_RETRY_SCHEDULE",
    "DEFAULT_TIME_SCALE",
    "EVENT_MEANINGS",
    "FAMILY_BY_CATEGORY",
    "MAX_ANSWER_BYTES",
    "MAX_EVENTS_FILE_BYTES",
    "USER_AGENT",
    "AttemptResult",
    "DeliveryReport",
    "Endpoint",
    "FakeLettr",
    "Fault",
    "RecordedRequest",
    "WebhookSender",
    "build_items",
    "event_type_of",
    "load_events",
    "make_event",
    "make_events",
    "plan_posts",
    "trigger",
]
