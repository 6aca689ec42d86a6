"""The webhooks resource's requests: JSON bodies and URL paths, built from checked values.

The rules themselves live in ``_validation`` (shared with the webhooks
file); this module only says which of them a ``create`` or an ``update``
applies, and turns what passes into what is sent. Every problem of one
call is reported in one ``ValidationError``, before anything is sent.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import quote

from .._deprecation import resolve_aliases
from .._validation import (
    AUTH_FIELDS,
    CREATE_FIELDS,
    NAME_MAX,
    UPDATE_FIELDS,
    FieldErrors,
    check_credential,
    check_enum,
    check_events,
    check_str,
    check_url,
    check_webhook_id,
    invalid,
    required_credentials,
)
from ..errors import ValidationError
from ..types import AuthType, EventsMode, WebhookUpdateFields

__all__ = ["build_create_params", "build_update_params", "validate_update_fields", "webhook_path"]


def build_create_params(**fields: Any) -> dict[str, Any]:
    """Validate ``webhooks.create`` arguments into its JSON request body.

    Unknown names, missing required fields and bad values are all reported
    in one ``ValidationError``.
    """
    return _build(_check_names(fields, CREATE_FIELDS), create=True)


def build_update_params(**given: Any) -> dict[str, Any]:
    """Validate ``webhooks.update`` arguments into its partial JSON request body.

    The deprecated ``target`` is resolved here, the one place for every entry
    point (``_deprecation``: the warning names the user's line).
    """
    return _build(resolve_aliases(_check_names(given, UPDATE_FIELDS)), create=False)


def validate_update_fields(fields: Mapping[str, Any]) -> WebhookUpdateFields:
    """Check the fields of an ``update`` (or one ``update_many`` item) without sending.

    For tools that show a plan before writing (a CLI's ``--dry-run``): the
    same rules and the same ``ValidationError`` as the call itself, with
    event names normalised. Credentials are checked, never echoed.
    """
    return cast("WebhookUpdateFields", build_update_params(**_check_names(fields, UPDATE_FIELDS)))


def _check_names(fields: Any, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(fields, Mapping):
        raise invalid("fields", f"must be a mapping of fields, not {type(fields).__name__}.")
    unknown = sorted(str(name) for name in fields if name not in allowed)
    if unknown:
        raise ValidationError(
            "unknown fields",
            errors={name: ["is not a field of this operation."] for name in unknown},
        )
    return fields


def _build(fields: Mapping[str, Any], *, create: bool) -> dict[str, Any]:
    """The body of a create (every field it needs) or an update (the fields given).

    One path for both, so a field is checked the same way in each; the
    body holds the given fields only, in wire order.
    """
    errors = FieldErrors()
    body: dict[str, Any] = {
        "name": check_str(errors, "name", fields.get("name"), required=create, max_len=NAME_MAX),
        "url": check_url(errors, "url", fields.get("url"), required=create),
        "auth_type": check_enum(
            errors, "auth_type", fields.get("auth_type"), AuthType, required=create
        ),
    }
    mode = None
    if create:
        mode = check_enum(
            errors, "events_mode", fields.get("events_mode"), EventsMode, required=True
        )
        body["events_mode"] = mode
    needed = required_credentials(body["auth_type"]) if create else ()
    for field in AUTH_FIELDS:
        body[field] = check_credential(errors, field, fields.get(field), required=field in needed)
    events = fields.get("events")
    if mode == EventsMode.SELECTED.value and events is None:
        errors.add("events", "is required when events_mode is 'selected'.")
    elif mode == EventsMode.ALL.value and events is not None:
        errors.add("events", "must not be given when events_mode is 'all'.")
    elif events is not None and (mode is not None or not create):
        body["events"] = check_events(errors, events)
    if not create:
        active = body["active"] = fields.get("active")
        if active is not None and not isinstance(active, bool):
            errors.add("active", f"must be a boolean, not {type(active).__name__}.")
        if all(value is None for value in fields.values()):
            errors.add("webhook", "nothing to update: pass at least one field.")
    errors.raise_if_any("webhooks.create" if create else "webhooks.update")
    return {name: value for name, value in body.items() if value is not None}


def webhook_path(webhook_id: Any) -> str:
    """Return ``/webhooks/<id>`` with the id percent-encoded as one segment.

    ``../domains`` becomes ``..%2Fdomains``: an id can never escape the
    resource, unlike in Lettr's own Python SDK.
    """
    if not isinstance(webhook_id, str):
        problem = f"must be a string, not {type(webhook_id).__name__}."
        raise invalid("webhook_id", problem, "webhook id")
    return _webhook_path(webhook_id)


@functools.lru_cache(maxsize=4096)
def _webhook_path(webhook_id: str) -> str:
    """``webhook_path`` for a str: cached, since the same ids come back (errors are not)."""
    errors = FieldErrors()
    if check_webhook_id(errors, "webhook_id", webhook_id) is None:
        raise ValidationError("invalid webhook id", errors=errors.by_field)
    segment = quote(webhook_id, safe="")
    if segment in (".", ".."):
        # A bare dot segment would be resolved away by URL normalisation.
        segment = segment.replace(".", "%2E")
    return "/webhooks/" + segment
