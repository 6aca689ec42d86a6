"""Closed vocabularies of the Lettr webhooks API: enums and event type names.

They live in one module so the client's validation, the models, the fake
server and users' own type hints all agree on the same spelling. The
webhook fields are defined here once too, as the ``TypedDict``s
``WebhookCreateFields`` and ``WebhookUpdateFields`` (the item types of
``create_many``/``update_many``): the validators derive their field sets
from them, and a test checks the resource signatures against them.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Final, Literal, TypedDict, get_args

__all__ = [
    "EVENT_TYPES",
    "AuthType",
    "EventType",
    "EventsMode",
    "LastStatus",
    "WebhookCreateFields",
    "WebhookUpdateFields",
    "is_known_event_type",
    "normalize_event_type",
]


class _StrEnum(str, enum.Enum):
    """A ``str`` enum whose ``str()`` is its value, on every Python we support.

    Python 3.11 changed ``format()`` of mixed-in enums; pinning ``__str__``
    keeps ``print(webhook.auth_type)`` printing ``none`` as Lettr's SDK does.
    """

    def __str__(self) -> str:
        return str(self.value)


class AuthType(_StrEnum):
    """How Lettr authenticates itself when it delivers events to a webhook."""

    NONE = "none"
    BASIC = "basic"
    OAUTH2 = "oauth2"


class EventsMode(_StrEnum):
    """Whether a webhook receives every event type or a selected list."""

    ALL = "all"
    SELECTED = "selected"


class LastStatus(_StrEnum):
    """Outcome of the most recent delivery attempt to a webhook."""

    SUCCESS = "success"
    FAILURE = "failure"


EventType = Literal[
    "message.injection",
    "message.delivery",
    "message.bounce",
    "message.delay",
    "message.out_of_band",
    "message.spam_complaint",
    "message.policy_rejection",
    "engagement.click",
    "engagement.open",
    "engagement.initial_open",
    "engagement.amp_click",
    "engagement.amp_open",
    "engagement.amp_initial_open",
    "generation.generation_failure",
    "generation.generation_rejection",
    "unsubscribe.list_unsubscribe",
    "unsubscribe.link_unsubscribe",
    "relay.relay_injection",
    "relay.relay_rejection",
    "relay.relay_delivery",
    "relay.relay_tempfail",
    "relay.relay_permfail",
]
"""The 22 canonical, fully-prefixed event type names."""

EVENT_TYPES: Final[tuple[EventType, ...]] = get_args(EventType)
"""Every canonical event type name, in the order of Lettr's documentation."""

_LEGACY_PREFIX: Final = "engagament."
_BY_SHORT_NAME: Final[dict[str, EventType]] = {name.split(".", 1)[1]: name for name in EVENT_TYPES}
_CANONICAL: Final[frozenset[str]] = frozenset(EVENT_TYPES)


def normalize_event_type(name: str) -> EventType:
    """Return the canonical name for ``name``, as Lettr's server normalises it.

    Accepts canonical names (``message.delivery``), short names
    (``delivery``) and the legacy misspelled prefix (``engagament.click``).
    Raises ``ValueError`` for anything else.
    """
    if name in _CANONICAL:
        return name  # type: ignore[return-value]
    if name.startswith(_LEGACY_PREFIX):
        fixed = "engagement." + name[len(_LEGACY_PREFIX) :]
        if fixed in _CANONICAL:
            return fixed  # type: ignore[return-value]
    elif "." not in name and name in _BY_SHORT_NAME:
        return _BY_SHORT_NAME[name]
    raise ValueError(f"unknown event type {name!r}")


def is_known_event_type(name: str) -> bool:
    """Tell whether ``name`` normalises to one of the 22 canonical event types."""
    try:
        normalize_event_type(name)
    except ValueError:
        return False
    return True


class _AuthFields(TypedDict, total=False):
    """Credentials Lettr uses when it delivers to the webhook."""

    auth_username: str | None
    auth_password: str | None
    oauth_client_id: str | None
    oauth_client_secret: str | None
    oauth_token_url: str | None


class _CreateRequired(TypedDict):
    name: str
    url: str
    auth_type: AuthType | str
    events_mode: EventsMode | str


class WebhookCreateFields(_CreateRequired, _AuthFields, total=False):
    """One ``create_many`` item: exactly ``webhooks.create``'s keyword arguments.

    Typed so mypy rejects a misspelt field (``{"nmae": ...}``) before runtime does.
    """

    events: Sequence[str] | None


class WebhookUpdateFields(_AuthFields, total=False):
    """One ``update_many`` value: ``webhooks.update``'s keyword arguments (all optional)."""

    name: str | None
    url: str | None
    target: str | None
    auth_type: AuthType | str | None
    events: Sequence[str] | None
    active: bool | None
