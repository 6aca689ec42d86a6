"""Request bodies, validated locally before anything is sent.

Each ``build_*`` function mirrors the contract's rules (required fields per
``auth_type`` and ``events_mode``, enums, lengths, absolute http(s) URLs,
known event names) and either returns an attrs params object or raises the
same ``ValidationError`` a 422 would, with every bad field named. Values are
never echoed in messages: a URL or password may hold secrets.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import attrs

from ._converter import register_omit_unset
from .errors import ValidationError
from .types import AuthType, EventsMode, normalize_event_type

__all__ = [
    "CREATE_FIELDS",
    "UPDATE_FIELDS",
    "CreateWebhookParams",
    "UpdateWebhookParams",
    "build_create_params",
    "build_update_params",
    "webhook_path",
]

NAME_MAX = 255
URL_MAX = 2048
SECRET_MAX = 255


@attrs.frozen
class CreateWebhookParams:
    """A validated ``StoreWebhookRequest`` body."""

    name: str
    url: str
    auth_type: str
    events_mode: str
    auth_username: str | None = None
    auth_password: str | None = attrs.field(default=None, repr=False)
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = attrs.field(default=None, repr=False)
    oauth_token_url: str | None = None
    events: list[str] | None = None


@attrs.frozen
class UpdateWebhookParams:
    """A validated ``UpdateWebhookRequest`` body; unset fields are not sent."""

    name: str | None = None
    url: str | None = None
    auth_type: str | None = None
    auth_username: str | None = None
    auth_password: str | None = attrs.field(default=None, repr=False)
    oauth_token_url: str | None = None
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = attrs.field(default=None, repr=False)
    events: list[str] | None = None
    active: bool | None = None


register_omit_unset(CreateWebhookParams)
register_omit_unset(UpdateWebhookParams)

CREATE_FIELDS: frozenset[str] = frozenset(a.name for a in attrs.fields(CreateWebhookParams))
"""Keyword arguments ``webhooks.create`` accepts."""

UPDATE_FIELDS: frozenset[str] = frozenset(
    {a.name for a in attrs.fields(UpdateWebhookParams)} | {"target"}
)
"""Keyword arguments ``webhooks.update`` accepts (``target`` is deprecated)."""


class _Errors:
    """Collects field errors so one exception can name every bad field."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def raise_if_any(self, what: str) -> None:
        if self.by_field:
            raise ValidationError(f"invalid arguments for {what}", errors=self.by_field)


def _check_str(
    errors: _Errors, field: str, value: Any, *, required: bool, max_len: int
) -> str | None:
    if value is None:
        if required:
            errors.add(field, "is required.")
        return None
    if not isinstance(value, str):
        errors.add(field, f"must be a string, not {type(value).__name__}.")
        return None
    if required and not value.strip():
        errors.add(field, "must not be empty.")
        return None
    if len(value) > max_len:
        errors.add(field, f"must be at most {max_len} characters.")
        return None
    return value


def _check_url(errors: _Errors, field: str, value: Any, *, required: bool) -> str | None:
    text = _check_str(errors, field, value, required=required, max_len=URL_MAX)
    if text is None:
        return None
    try:
        parts = urlsplit(text)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid:
        errors.add(field, "must be an absolute http(s) URL.")
        return None
    return text


def _check_enum(
    errors: _Errors,
    field: str,
    value: Any,
    enum: type[AuthType] | type[EventsMode],
    *,
    required: bool,
) -> str | None:
    if value is None:
        if required:
            errors.add(field, "is required.")
        return None
    allowed = [member.value for member in enum]
    raw = value.value if isinstance(value, enum) else value
    if raw not in allowed:
        errors.add(field, f"must be one of {', '.join(allowed)}.")
        return None
    return str(raw)


def _check_events(errors: _Errors, value: Any) -> list[str] | None:
    if isinstance(value, str) or not isinstance(value, Iterable):
        errors.add("events", "must be a list of event type names.")
        return None
    names: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            errors.add(f"events.{index}", "must be a string.")
            continue
        try:
            canonical = normalize_event_type(item)
        except ValueError:
            errors.add(f"events.{index}", f"unknown event type {item!r}.")
            continue
        if canonical not in names:
            names.append(canonical)
    if (
        not names
        and "events" not in errors.by_field
        and not any(key.startswith("events.") for key in errors.by_field)
    ):
        errors.add("events", "must contain at least one event type.")
    return names


def _check_secrets(errors: _Errors, values: Mapping[str, Any], *, required: Iterable[str]) -> None:
    needed = set(required)
    for field, value in values.items():
        if field == "oauth_token_url":
            _check_url(errors, field, value, required=field in needed)
        else:
            _check_str(errors, field, value, required=field in needed, max_len=SECRET_MAX)


_BASIC_FIELDS = ("auth_username", "auth_password")
_OAUTH_FIELDS = ("oauth_client_id", "oauth_client_secret", "oauth_token_url")


def _required_secrets(auth_type: str | None) -> tuple[str, ...]:
    if auth_type == AuthType.BASIC.value:
        return _BASIC_FIELDS
    if auth_type == AuthType.OAUTH2.value:
        return _OAUTH_FIELDS
    return ()


def build_create_params(
    *,
    name: Any,
    url: Any,
    auth_type: Any,
    events_mode: Any,
    auth_username: Any = None,
    auth_password: Any = None,
    oauth_client_id: Any = None,
    oauth_client_secret: Any = None,
    oauth_token_url: Any = None,
    events: Any = None,
) -> CreateWebhookParams:
    """Validate ``webhooks.create`` arguments into a request body."""
    errors = _Errors()
    checked_name = _check_str(errors, "name", name, required=True, max_len=NAME_MAX)
    checked_url = _check_url(errors, "url", url, required=True)
    checked_auth = _check_enum(errors, "auth_type", auth_type, AuthType, required=True)
    checked_mode = _check_enum(errors, "events_mode", events_mode, EventsMode, required=True)
    secrets = {
        "auth_username": auth_username,
        "auth_password": auth_password,
        "oauth_client_id": oauth_client_id,
        "oauth_client_secret": oauth_client_secret,
        "oauth_token_url": oauth_token_url,
    }
    _check_secrets(errors, secrets, required=_required_secrets(checked_auth))
    checked_events: list[str] | None = None
    if checked_mode == EventsMode.SELECTED.value:
        if events is None:
            errors.add("events", "is required when events_mode is 'selected'.")
        else:
            checked_events = _check_events(errors, events)
    elif checked_mode == EventsMode.ALL.value and events is not None:
        errors.add("events", "must not be given when events_mode is 'all'.")
    errors.raise_if_any("webhooks.create")
    return CreateWebhookParams(
        name=str(checked_name),
        url=str(checked_url),
        auth_type=str(checked_auth),
        events_mode=str(checked_mode),
        events=checked_events,
        **secrets,
    )


def build_update_params(
    *,
    name: Any = None,
    url: Any = None,
    target: Any = None,
    auth_type: Any = None,
    auth_username: Any = None,
    auth_password: Any = None,
    oauth_token_url: Any = None,
    oauth_client_id: Any = None,
    oauth_client_secret: Any = None,
    events: Any = None,
    active: Any = None,
) -> UpdateWebhookParams:
    """Validate ``webhooks.update`` arguments into a partial request body.

    ``target`` is the deprecated alias of ``url``: it warns and is sent as
    ``url``; giving both is a ``TypeError``, as in Lettr's own SDK.
    """
    if target is not None:
        if url is not None:
            raise TypeError("pass either url or target (deprecated), not both")
        warnings.warn(
            "'target' is deprecated; pass 'url' instead", DeprecationWarning, stacklevel=4
        )
        url = target
    errors = _Errors()
    checked_name = _check_str(errors, "name", name, required=False, max_len=NAME_MAX)
    checked_url = _check_url(errors, "url", url, required=False)
    checked_auth = _check_enum(errors, "auth_type", auth_type, AuthType, required=False)
    secrets = {
        "auth_username": auth_username,
        "auth_password": auth_password,
        "oauth_client_id": oauth_client_id,
        "oauth_client_secret": oauth_client_secret,
        "oauth_token_url": oauth_token_url,
    }
    _check_secrets(errors, secrets, required=())
    checked_events = _check_events(errors, events) if events is not None else None
    if active is not None and not isinstance(active, bool):
        errors.add("active", f"must be a boolean, not {type(active).__name__}.")
    given = [name, url, auth_type, events, active, *secrets.values()]
    if all(value is None for value in given):
        errors.add("webhook", "nothing to update: pass at least one field.")
    errors.raise_if_any("webhooks.update")
    return UpdateWebhookParams(
        name=checked_name,
        url=checked_url,
        auth_type=checked_auth,
        events=checked_events,
        active=active,
        **secrets,
    )


def webhook_path(webhook_id: Any) -> str:
    """Return ``/webhooks/<id>`` with the id percent-encoded as one segment.

    ``../domains`` becomes ``..%2Fdomains``: an id can never escape the
    resource, unlike in Lettr's own Python SDK.
    """
    if not isinstance(webhook_id, str):
        raise ValidationError(
            "invalid webhook id",
            errors={"webhook_id": [f"must be a string, not {type(webhook_id).__name__}."]},
        )
    if not webhook_id.strip():
        raise ValidationError("invalid webhook id", errors={"webhook_id": ["must not be empty."]})
    segment = quote(webhook_id, safe="")
    if segment in (".", ".."):
        # A bare dot segment would be resolved away by URL normalisation.
        segment = segment.replace(".", "%2E")
    return "/webhooks/" + segment
