"""Every local validation rule of the SDK, in one module.

Client options (``api_key``, ``base_url``, ``timeout``, ``max_retries``,
``rate_limit``, ``connection_limit``, ``verify``), bulk ``concurrency``,
webhook ids and webhook fields are all checked here, before anything is
sent, and every failure is a ``ValidationError`` naming the field. Values
are never echoed in messages: a URL, key or password may hold secrets.

The field rules (``check_str``, ``check_url``, ``check_enum``,
``check_credential``, ``check_events``, ``check_webhook_id``) report into
any ``ErrorSink``, so the webhooks-as-code file loader applies the very
same rules and words, keyed by where the value stands in the file. The
field sets derive from the ``TypedDict``s of ``types``; the request bodies
and paths built from the checked values live beside the resource
(``resources/_params.py``).
"""

from __future__ import annotations

import math
import os
import re
import ssl
from collections.abc import Iterable
from typing import Any, Protocol
from urllib.parse import urlsplit

from .errors import ValidationError
from .hooks import NO_HOOKS, Hooks
from .models import SECRET_FIELDS
from .types import (
    AuthType,
    EventsMode,
    WebhookCreateFields,
    WebhookUpdateFields,
    _AuthFields,
    normalize_event_type,
)

__all__ = [
    "API_KEY_ENV",
    "AUTH_FIELDS",
    "CREATE_FIELDS",
    "SECRET_FIELDS",
    "UPDATE_FIELDS",
    "ErrorSink",
    "FieldErrors",
    "check_api_key",
    "check_base_url",
    "check_credential",
    "check_enum",
    "check_events",
    "check_hooks",
    "check_max_retries",
    "check_positive_int",
    "check_rate_limit",
    "check_seconds",
    "check_str",
    "check_timeout",
    "check_url",
    "check_verify",
    "check_webhook_id",
    "invalid",
    "required_credentials",
]

API_KEY_ENV = "LETTR_API_KEY"
"""Where the client and the CLI read the API key when none is passed."""

_CONTROL = re.compile("[\x00-\x1f\x7f]")
NAME_MAX = 255
URL_MAX = 2048
SECRET_MAX = 255
ID_MAX = 255

AUTH_FIELDS: tuple[str, ...] = tuple(_AuthFields.__annotations__)
"""The delivery-credential fields, in wire order."""

CREATE_FIELDS: frozenset[str] = frozenset(WebhookCreateFields.__annotations__)
"""Keyword arguments ``webhooks.create`` accepts (a ``TypedDict``'s own and inherited keys)."""

UPDATE_FIELDS: frozenset[str] = frozenset(WebhookUpdateFields.__annotations__)
"""Keyword arguments ``webhooks.update`` accepts (``target`` is deprecated)."""

# Required per auth_type, derived from the one field list.
_REQUIRED: dict[str | None, tuple[str, ...]] = {
    AuthType.BASIC.value: tuple(f for f in AUTH_FIELDS if f.startswith("auth_")),
    AuthType.OAUTH2.value: tuple(f for f in AUTH_FIELDS if f.startswith("oauth_")),
}


def invalid(field: str, message: str, what: str | None = None) -> ValidationError:
    """The error of one bad argument: "invalid <what>" (default: the field), ``message`` on it."""
    return ValidationError(f"invalid {what or field}", errors={field: [message]})


# -- client options -------------------------------------------------------------------


def _has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def check_api_key(value: Any) -> str:
    """The API key, stripped; refused when missing or unusable in a header (CR/LF...)."""
    if value is not None and not isinstance(value, str):
        raise invalid("api_key", f"must be a string, not {type(value).__name__}.")
    key = (value or "").strip()
    if not key:
        raise ValidationError(
            f"no Lettr API key: pass api_key='lttr_...' or set the {API_KEY_ENV} "
            "environment variable",
            errors={"api_key": ["is required."]},
        )
    if _has_control(key) or any(ch.isspace() for ch in key) or not key.isascii():
        raise invalid("api_key", "must not contain spaces, line breaks or non-ASCII characters.")
    return key


def check_base_url(value: Any) -> str:
    """An absolute http(s) URL without credentials, with a valid port; no trailing slash."""
    message = "must be an absolute http(s) URL."
    if not isinstance(value, str) or _has_control(value) or " " in value:
        raise invalid("base_url", message)
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for 99999 or "abc"
        host = parts.hostname
    except ValueError:
        raise invalid("base_url", "has an invalid port or host.") from None
    if parts.scheme not in ("http", "https") or not host:
        raise invalid("base_url", message)
    if port == 0:
        raise invalid("base_url", "has an invalid port or host.")
    if parts.username is not None or parts.password is not None:
        raise invalid(
            "base_url", "must not contain credentials (user:pass@); pass api_key instead."
        )
    if parts.query or parts.fragment:
        raise invalid("base_url", "must not have a query or fragment.")
    return value.rstrip("/")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_hooks(value: Any) -> Hooks:
    """The client's observability hooks; None means none."""
    if value is None:
        return NO_HOOKS
    if not isinstance(value, Hooks):
        raise invalid("hooks", "must be a lettr_async.hooks.Hooks instance.")
    return value


def check_timeout(value: Any) -> float | None:
    """Seconds for a whole call; None means no timeout (everywhere)."""
    return _positive_or_none("timeout", value, "a positive, finite number of seconds")


def check_max_retries(value: Any) -> int:
    """Retries after the first attempt: a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid("max_retries", "must be a non-negative integer.")
    return value


def check_seconds(field: str, value: Any) -> float:
    """A non-negative, finite number of seconds (the ``RetryPolicy`` settings)."""
    if not _is_number(value) or not math.isfinite(value) or value < 0:
        raise invalid(field, "must be a non-negative, finite number of seconds.")
    return float(value)


def check_rate_limit(value: Any) -> float | None:
    """Starting budget in requests per second, or None for no pacing."""
    return _positive_or_none("rate_limit", value, "a positive number of requests per second")


def _positive_or_none(field: str, value: Any, what: str) -> float | None:
    if value is None:
        return None
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        raise invalid(field, f"must be {what} or None.")
    return float(value)


def check_positive_int(field: str, value: Any) -> int:
    """A positive integer (booleans refused): ``connection_limit``, bulk ``concurrency``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid(field, "must be a positive integer.")
    return value


def check_verify(value: Any) -> ssl.SSLContext | None:
    """``True`` (system CAs), a CA bundle path, or an ``ssl.SSLContext``.

    There is deliberately no way to turn certificate verification off: a
    context that skips the certificate (``CERT_NONE``) or the host name
    (``check_hostname=False``: any valid certificate, for any host, would
    do) is refused. The client checks its context again before every
    request, since the caller still holds it and may change it later.
    Returns None for the default, else the context to use.
    """
    if value is True:
        return None
    if isinstance(value, ssl.SSLContext):
        if value.verify_mode == ssl.CERT_NONE or not value.check_hostname:
            raise invalid(
                "verify",
                "must be an ssl.SSLContext that verifies the certificate and the host name "
                "(verify_mode CERT_REQUIRED, check_hostname True).",
            )
        return value
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if not os.path.exists(path):
            raise invalid("verify", "must be the path of an existing CA bundle.")
        try:
            if os.path.isdir(path):
                return ssl.create_default_context(capath=path)
            return ssl.create_default_context(cafile=path)
        except (ssl.SSLError, OSError):
            raise invalid("verify", "is not a readable CA bundle.") from None
    raise invalid("verify", "must be True, a CA bundle path or an ssl.SSLContext (never False).")


# -- webhook fields -------------------------------------------------------------------


class ErrorSink(Protocol):
    """Where a field rule reports a problem, so one rule serves every caller.

    The SDK's calls collect problems by field name into one
    ``ValidationError`` (``FieldErrors``); the webhooks-as-code loader
    collects them by place in the file (``"<file>: webhooks[0] (name).url"``)
    into a ``ConfigError``.
    """

    def add(self, field: str, message: str, /) -> None:
        """Record ``message`` (never holding the value) against ``field``."""


class FieldErrors:
    """Collects field errors so one exception can name every bad field."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        """Record ``message`` against ``field``."""
        self.by_field.setdefault(field, []).append(message)

    def raise_if_any(self, what: str) -> None:
        """Raise one ``ValidationError`` for ``what`` naming every field recorded."""
        if self.by_field:
            raise ValidationError(f"invalid arguments for {what}", errors=self.by_field)


def check_str(
    errors: ErrorSink, field: str, value: Any, *, required: bool, max_len: int
) -> str | None:
    """Text of at most ``max_len`` characters that can be sent as UTF-8; None if refused.

    ``required`` also refuses None and blank text. One owner for the rule, so
    the client and the webhooks file accept exactly the same names and URLs.
    """
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
    if not _encodable(value):
        errors.add(field, "must be valid Unicode text (no lone surrogates).")
        return None
    if len(value) > max_len:
        errors.add(field, f"must be at most {max_len} characters.")
        return None
    return value


def check_url(errors: ErrorSink, field: str, value: Any, *, required: bool) -> str | None:
    """An absolute http(s) URL with a host, within ``URL_MAX``; None if refused.

    Lettr delivers to it, so anything else could never work (see ``check_str``).
    """
    text = check_str(errors, field, value, required=required, max_len=URL_MAX)
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


def check_enum(
    errors: ErrorSink,
    field: str,
    value: Any,
    enum: type[AuthType] | type[EventsMode],
    *,
    required: bool,
) -> str | None:
    """A member (or the value) of ``enum``, as its wire string; None if refused.

    The message lists the allowed values from the enum itself, so it cannot
    fall behind a new member.
    """
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


def check_events(errors: ErrorSink, value: Any) -> list[str] | None:
    """Event type names, normalised and without repeats; None if refused.

    Each bad item is reported as ``events.<index>``; a list with no item
    at all is refused too, since Lettr would deliver nothing.
    """
    if isinstance(value, str) or not isinstance(value, Iterable):
        errors.add("events", "must be a list of event type names.")
        return None
    names: list[str] = []
    refused = False
    for index, item in enumerate(value):
        if not isinstance(item, str):
            errors.add(f"events.{index}", "must be a string.")
            refused = True
            continue
        try:
            canonical = normalize_event_type(item)
        except ValueError:
            errors.add(f"events.{index}", f"unknown event type {item!r}.")
            refused = True
            continue
        if canonical not in names:
            names.append(canonical)
    if not names and not refused:
        errors.add("events", "must contain at least one event type.")
    return names


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_credential(
    errors: ErrorSink, field: str, value: Any, *, required: bool, key: str | None = None
) -> str | None:
    """One delivery credential (an ``AUTH_FIELDS`` name); None if refused.

    ``oauth_token_url`` must be a URL, the others text of at most
    ``SECRET_MAX`` characters. Problems are reported under ``key`` (default:
    ``field``), so a caller can say where the value came from.
    """
    if field == "oauth_token_url":
        return check_url(errors, key or field, value, required=required)
    return check_str(errors, key or field, value, required=required, max_len=SECRET_MAX)


def required_credentials(auth_type: str | None) -> tuple[str, ...]:
    """The credential fields ``auth_type`` needs, in wire order (none for ``none``).

    The webhooks file derives its per-auth-type fields from this too.
    """
    return _REQUIRED.get(auth_type, ())


def check_webhook_id(errors: ErrorSink, field: str, webhook_id: str) -> str | None:
    """A webhook id that can stand in a URL path segment; None if refused.

    The webhooks file checks a pinned ``id`` with it, so a file is refused
    at load time rather than mid-apply.
    """
    if not webhook_id.strip():
        errors.add(field, "must not be empty.")
        return None
    if len(webhook_id) > ID_MAX or not _encodable(webhook_id) or _has_control(webhook_id):
        errors.add(
            field, f"must be at most {ID_MAX} characters of valid text without control characters."
        )
        return None
    return webhook_id
