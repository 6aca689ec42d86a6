"""Value classes for what the webhooks API returns.

Frozen and slotted: a ``Webhook`` is a snapshot of server state, safe to
share between tasks and threads, and cheap to build in bulk.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from .types import AuthType, LastStatus

__all__ = ["RateLimitInfo", "Webhook"]


@attrs.frozen
class Webhook:
    """A webhook endpoint as Lettr reports it (``WebhookView``).

    ``event_types`` is None when the webhook receives every event type;
    otherwise it holds canonical names such as ``message.delivery``.
    Credentials are never returned by Lettr; ``has_auth_credentials`` says
    whether some are stored.
    """

    id: str
    name: str
    url: str
    enabled: bool
    auth_type: AuthType
    has_auth_credentials: bool
    event_types: list[str] | None = None
    last_successful_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_status: LastStatus | None = None


@attrs.frozen
class RateLimitInfo:
    """The team's rate-limit budget as last reported by the server.

    ``limit`` is requests per second, ``remaining`` what is left of the
    current window, ``reset`` when the window ends (aware UTC datetime).
    Any of them is None until a response has carried that header.
    """

    limit: int | None = None
    remaining: int | None = None
    reset: datetime | None = None
