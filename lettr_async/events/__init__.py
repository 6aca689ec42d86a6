"""Receiving Lettr webhook deliveries: parsing, verification and de-duplication.

Framework helpers live in ``lettr_async.events.django`` and
``lettr_async.events.aiohttp`` (imported on demand so neither framework is
required); both are thin adapters around ``WebhookReceiver``.
"""

from __future__ import annotations

from lettr_async.events._dedup import DEFAULT_DEDUP_TTL, DedupStore, InMemoryDedupStore
from lettr_async.events._errors import WebhookPayloadError, WebhookVerificationError
from lettr_async.events._models import (
    BounceEvent,
    ClickEvent,
    OpenEvent,
    RelayEvent,
    WebhookEvent,
)
from lettr_async.events._parse import FAMILY_CATEGORIES, parse_event, parse_events
from lettr_async.events._receiver import (
    AsyncHandler,
    Handler,
    SyncHandler,
    WebhookReceiver,
    WebhookResponse,
)
from lettr_async.events._verify import (
    DEFAULT_TOLERANCE,
    SIGNATURE_HEADER,
    require_basic_auth,
    require_bearer,
    require_signature,
    sign_payload,
    verify_basic_auth,
    verify_bearer,
    verify_signature,
)

__all__ = [
    "DEFAULT_DEDUP_TTL",
    "DEFAULT_TOLERANCE",
    "FAMILY_CATEGORIES",
    "SIGNATURE_HEADER",
    "AsyncHandler",
    "BounceEvent",
    "ClickEvent",
    "DedupStore",
    "Handler",
    "InMemoryDedupStore",
    "OpenEvent",
    "RelayEvent",
    "SyncHandler",
    "WebhookEvent",
    "WebhookPayloadError",
    "WebhookReceiver",
    "WebhookResponse",
    "WebhookVerificationError",
    "parse_event",
    "parse_events",
    "require_basic_auth",
    "require_bearer",
    "require_signature",
    "sign_payload",
    "verify_basic_auth",
    "verify_bearer",
    "verify_signature",
]
