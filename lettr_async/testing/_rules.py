"""FakeLettr's request rules: its validation, written the way Lettr's (Laravel) API validates.

Kept apart from the server so the HTTP plumbing and the rules a create or an
update must pass can each be read (and changed) on their own. Every checker
appends Laravel-style messages to an ``Errors`` dict and returns the valid
value, or ``None``.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from lettr_async.types import AuthType, normalize_event_type

__all__ = [
    "BASIC_FIELDS",
    "OAUTH_FIELDS",
    "SECRET_FIELDS",
    "Errors",
    "check_enum",
    "check_events",
    "check_secrets",
    "check_string",
    "decode_json",
    "require_credentials",
    "secrets_for",
]

Errors = dict[str, list[str]]
"""Field name -> messages, the ``errors`` object of a 422 answer."""

SECRET_FIELDS: Final = (
    "auth_username",
    "auth_password",
    "oauth_client_id",
    "oauth_client_secret",
    "oauth_token_url",
)
"""Delivery credentials: stored privately, never returned by the API."""

BASIC_FIELDS: Final = ("auth_username", "auth_password")
"""The credentials ``auth_type=basic`` requires."""

OAUTH_FIELDS: Final = ("oauth_client_id", "oauth_client_secret", "oauth_token_url")
"""The credentials ``auth_type=oauth2`` requires."""


def decode_json(body: bytes, content_type: str) -> tuple[bool, Any]:
    """Parse a JSON body the way a JSON API does: only when it is declared as JSON."""
    if not body:
        return False, None
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime != "application/json" and not mime.endswith("+json"):
        return False, None
    try:
        return True, jsonlib.loads(body)
    except ValueError:
        return False, None


def _label(field: str) -> str:
    return field.replace("_", " ")


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def check_string(
    errors: Errors,
    payload: Mapping[str, Any],
    field: str,
    *,
    max_len: int,
    url: bool = False,
    required: bool = False,
    required_reason: str = "",
) -> str | None:
    """Validate one optional/required string field like Laravel would; return it if valid."""
    if field not in payload:
        if required:
            errors.setdefault(field, []).append(
                f"The {_label(field)} field is required{required_reason}."
            )
        return None
    value = payload[field]
    if not isinstance(value, str):
        errors.setdefault(field, []).append(f"The {_label(field)} field must be a string.")
        return None
    if required and not value.strip():
        errors.setdefault(field, []).append(
            f"The {_label(field)} field is required{required_reason}."
        )
        return None
    problems: list[str] = []
    if len(value) > max_len:
        problems.append(f"The {_label(field)} field must not be greater than {max_len} characters.")
    if url and not _is_http_url(value):
        problems.append(f"The {_label(field)} field must be a valid URL.")
    if problems:
        errors.setdefault(field, []).extend(problems)
        return None
    return value


def check_enum(
    errors: Errors, payload: Mapping[str, Any], field: str, allowed: Iterable[str], required: bool
) -> str | None:
    """Validate a field that must be one of ``allowed``; return it if valid."""
    if field not in payload:
        if required:
            errors.setdefault(field, []).append(f"The {_label(field)} field is required.")
        return None
    value = payload[field]
    if not isinstance(value, str) or value not in allowed:
        errors.setdefault(field, []).append(f"The selected {_label(field)} is invalid.")
        return None
    return value


def check_events(errors: Errors, payload: Mapping[str, Any], required: bool) -> list[str] | None:
    """Validate and normalise ``events``: a non-empty list of known event type names."""
    if "events" not in payload:
        if required:
            errors["events"] = ["The events field is required when events mode is selected."]
        return None
    value = payload["events"]
    if not isinstance(value, list):
        errors["events"] = ["The events field must be an array."]
        return None
    if not value:
        errors["events"] = ["The events field must have at least 1 items."]
        return None
    normalised: list[str] = []
    valid = True
    for index, item in enumerate(value):
        try:
            name = normalize_event_type(item) if isinstance(item, str) else None
        except ValueError:
            name = None
        if name is None:
            errors[f"events.{index}"] = [f"The selected events.{index} is invalid."]
            valid = False
        elif name not in normalised:
            normalised.append(name)
    return normalised if valid else None


def require_credentials(errors: Errors, auth_type: str, merged: Mapping[str, str | None]) -> None:
    """``basic`` and ``oauth2`` need their credential fields, sent now or stored before."""
    if auth_type == AuthType.NONE:
        return
    needed = BASIC_FIELDS if auth_type == AuthType.BASIC else OAUTH_FIELDS
    for field in needed:
        if merged.get(field) is None and field not in errors:
            errors[field] = [
                f"The {_label(field)} field is required when auth type is {auth_type}."
            ]


def check_secrets(errors: Errors, payload: Mapping[str, Any]) -> dict[str, str]:
    """Validate whichever credential fields were sent; return the valid ones."""
    found: dict[str, str] = {}
    for field in SECRET_FIELDS:
        is_url = field == "oauth_token_url"
        value = check_string(errors, payload, field, max_len=2048 if is_url else 255, url=is_url)
        if value is not None:
            found[field] = value
    return found


def secrets_for(auth_type: str, values: Mapping[str, str | None]) -> dict[str, str | None]:
    """Keep only the credentials that the auth type uses; the rest are forgotten."""
    keep = {
        AuthType.BASIC.value: BASIC_FIELDS,
        AuthType.OAUTH2.value: OAUTH_FIELDS,
    }.get(auth_type, ())
    return {field: (values.get(field) if field in keep else None) for field in SECRET_FIELDS}
