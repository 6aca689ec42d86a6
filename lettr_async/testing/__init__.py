"""A contract-faithful fake Lettr server, shipped so users can test their own code.

``FakeLettr`` serves Lettr's webhooks API from memory on ``aiohttp.web``:
same paths under ``/api``, same validation, error bodies and rate-limit
headers. ``Fault`` queues misbehaviour (delays, error statuses, dropped
connections, broken JSON); ``RecordedRequest`` is what it saw on the wire.
Run ``python -m lettr_async.testing`` for a standalone server.
"""

from __future__ import annotations

from ._faults import Fault
from ._server import FakeLettr, RecordedRequest

__all__ = ["FakeLettr", "Fault", "RecordedRequest"]
