"""Async-first SDK for the Lettr webhooks API.

``AsyncLettr`` is the client; ``lettr_sync.Lettr`` is its generated
synchronous twin. Everything users need to type their code is importable
from here: models, enums, event type names and the exception hierarchy.
"""

from ._client import DEFAULT_BASE_URL, AsyncLettr
from ._ratelimit import Lane
from ._retry import RetryPolicy
from ._version import __version__
from .bulk import BulkError, BulkOutcome, BulkResult
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    LettrError,
    NotAttemptedError,
    NotFoundError,
    RateLimitError,
    ServerError,
    UnexpectedResponseError,
    ValidationError,
)
from .models import RateLimitInfo, Webhook
from .resources import AsyncWebhooks
from .types import (
    EVENT_TYPES,
    AuthType,
    EventsMode,
    EventType,
    LastStatus,
    normalize_event_type,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "EVENT_TYPES",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncLettr",
    "AsyncWebhooks",
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
    "LettrError",
    "NotAttemptedError",
    "NotFoundError",
    "RateLimitError",
    "RateLimitInfo",
    "RetryPolicy",
    "ServerError",
    "UnexpectedResponseError",
    "ValidationError",
    "Webhook",
    "__version__",
    "normalize_event_type",
]
