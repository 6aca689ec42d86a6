"""Async-first SDK for the Lettr webhooks API.

``AsyncLettr`` is the client; ``lettr_sync.Lettr`` is its generated
synchronous twin. Everything users need to type their code is importable
from here: models, enums, event type names, the exception hierarchy and
whatever the constructor takes (``RetryPolicy``, ``Hooks``, ``RateStore``).
"""

from ._client import DEFAULT_BASE_URL, AsyncLettr
from ._retry import RetryPolicy
from ._sentinel import NOT_GIVEN, NotGiven
from ._validation import API_KEY_ENV
from ._version import __version__
from .bulk import (
    BulkError,
    BulkLedger,
    BulkOutcome,
    BulkResult,
    OutcomeUnknownError,
    ProgressCallback,
)
from .errors import (
    CLIENT_RATE_LIMITED,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    InsecureBaseURLWarning,
    LettrError,
    NotAttemptedError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TLSCertificateError,
    UnexpectedResponseError,
    UnprocessableEntityError,
    ValidationError,
)
from .hooks import Hooks
from .models import RateLimitInfo, Webhook
from .ratelimit import RateStore
from .resources import AsyncWebhooks
from .resources._params import validate_update_fields
from .types import (
    EVENT_TYPES,
    AuthType,
    EventsMode,
    EventType,
    LastStatus,
    WebhookCreateFields,
    WebhookUpdateFields,
    normalize_event_type,
)

__all__ = [
    "API_KEY_ENV",
    "CLIENT_RATE_LIMITED",
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
    "BulkLedger",
    "BulkOutcome",
    "BulkResult",
    "ConflictError",
    "EventType",
    "EventsMode",
    "ForbiddenError",
    "Hooks",
    "InsecureBaseURLWarning",
    "LastStatus",
    "LettrError",
    "NOT_GIVEN",
    "NotGiven",
    "NotAttemptedError",
    "NotFoundError",
    "OutcomeUnknownError",
    "ProgressCallback",
    "RateLimitError",
    "RateLimitInfo",
    "RateStore",
    "RetryPolicy",
    "ServerError",
    "TLSCertificateError",
    "UnexpectedResponseError",
    "UnprocessableEntityError",
    "ValidationError",
    "Webhook",
    "WebhookCreateFields",
    "WebhookUpdateFields",
    "__version__",
    "normalize_event_type",
    "validate_update_fields",
]
