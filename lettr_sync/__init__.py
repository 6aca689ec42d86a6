"""Synchronous facade over ``lettr_async``: ``import lettr_sync as lettr`` and go.

A drop-in for Lettr's own Python SDK (``lettr.Lettr(api_key)``,
``client.webhooks.list()``, the same exceptions), generated from the async
core so both APIs always match. Calls run on a background event loop owned
by the client, so one client can be shared by many threads and keeps its
connections pooled. Everything ``lettr_async`` exports (models, errors,
enums, ``EVENT_TYPES``, ``BulkResult``...) is re-exported here, except the
async client and resource classes.
"""

from lettr_async import (
    DEFAULT_BASE_URL,
    EVENT_TYPES,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    AuthType,
    BadRequestError,
    BulkError,
    BulkOutcome,
    BulkResult,
    ConflictError,
    EventsMode,
    EventType,
    ForbiddenError,
    Lane,
    LastStatus,
    LettrError,
    NotAttemptedError,
    NotFoundError,
    RateLimitError,
    RateLimitInfo,
    RetryPolicy,
    ServerError,
    UnexpectedResponseError,
    ValidationError,
    Webhook,
    __version__,
    normalize_event_type,
)

from ._client import Lettr, SyncInAsyncContextWarning
from ._generated import Webhooks

__all__ = [
    "DEFAULT_BASE_URL",
    "EVENT_TYPES",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthType",
    "AuthenticationError",
    "BadRequestError",
    "BulkError",
    "BulkOutcome",
    "BulkResult",
    "ConflictError",
    "EventType",
    "EventsMode",
    "ForbiddenError",
    "Lane",
    "LastStatus",
    "Lettr",
    "LettrError",
    "NotAttemptedError",
    "NotFoundError",
    "RateLimitError",
    "RateLimitInfo",
    "RetryPolicy",
    "ServerError",
    "SyncInAsyncContextWarning",
    "UnexpectedResponseError",
    "ValidationError",
    "Webhook",
    "Webhooks",
    "__version__",
    "normalize_event_type",
]
