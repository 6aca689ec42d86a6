"""A contract-faithful fake Lettr server, shipped so users can test their own code.

``FakeLettr`` serves Lettr's webhooks API from memory on ``aiohttp.web``:
same paths under ``/api``, same validation, error bodies and rate-limit
headers. ``Fault`` queues misbehaviour (delays, error statuses, dropped
connections, broken JSON); ``RecordedRequest`` is what it saw on the wire.
``FakeLettr.deliver`` sends event batches to the webhooks like Lettr does
(auth, retries, ``410 Gone``) and returns ``DeliveryReport``s;
``lettr_async.testing.events`` builds realistic event items.
Run ``python -m lettr_async.testing`` for a standalone server.
"""

from __future__ import annotations

from ._delivery import DEFAULT_RETRY_SCHEDULE, DEFAULT_TIME_SCALE, USER_AGENT, DeliveryReport
from ._faults import Fault
from ._server import FakeLettr, RecordedRequest
from .events import make_event, make_events

__all__ = [
    "DEFAULT_RETRY_SCHEDULE",
    "DEFAULT_TIME_SCALE",
    "USER_AGENT",
    "DeliveryReport",
    "FakeLettr",
    "Fault",
    "RecordedRequest",
    "make_event",
    "make_events",
]
