"""Value classes for what the webhooks API returns.

Frozen: a ``Webhook`` is a snapshot of server state, safe to share between
tasks and threads. Not slotted, on purpose: a frozen slotted attrs class sets
each field through ``object.__setattr__`` (a C wrapper call per field), a
frozen dict class writes its instance ``__dict__`` directly, which makes
structuring a response about 5k instructions cheaper per ``Webhook``
(issue 23). Fields, equality, hashing, ``repr`` and the
``FrozenInstanceError`` on assignment are the same either way.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import attrs

from .types import AuthType, LastStatus

__all__ = ["SECRET_FIELDS", "RateLimitInfo", "Webhook", "mask_url_credentials"]

SECRET_FIELDS: frozenset[str] = frozenset({"auth_password", "oauth_client_secret"})
"""Webhook fields whose values must never be shown (repr, logs, errors, CLI output)."""

_MASK = "***"


def mask_url_credentials(url: str) -> str:
    """Return ``url`` with any ``user:password@`` replaced by ``***@``.

    Why: a webhook URL such as ``https://user:pass@host/hook`` embeds
    credentials, and it appears in ``repr(webhook)``, logs and CLI output.
    Everything else (host, port, path, query) is kept so the URL stays
    recognisable. Text that is not a URL with userinfo is returned unchanged;
    anything unparsable is masked whole rather than risked.
    """
    if "@" not in url:
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
    except ValueError:
        return _MASK
    if "@" not in netloc:
        return url
    host = netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{_MASK}@{host}"))


def _url_repr(url: str) -> str:
    return repr(mask_url_credentials(url))


@attrs.frozen(slots=False)
class Webhook:
    """A webhook endpoint as Lettr reports it (``WebhookView``).

    ``event_types`` is None when the webhook receives every event type;
    otherwise it holds canonical names such as ``message.delivery``.
    Credentials are never returned by Lettr; ``has_auth_credentials`` says
    whether some are stored. ``repr()`` masks credentials embedded in
    ``url`` (``https://***@host/...``); the attribute itself is untouched.
    """

    id: str
    name: str
    url: str = attrs.field(repr=_url_repr)
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
