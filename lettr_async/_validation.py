"""Every local validation rule of the SDK, in one module.

Client options (``api_key``, ``base_url``, ``timeout``, ``max_retries``,
``rate_limit``, ``connection_limit``, ``verify``), bulk ``concurrency``,
webhook ids and webhook fields are all checked here, before anything is
sent, and every failure is a ``ValidationError`` naming the field. Values
are never echoed in messages: a URL, key or password may hold secrets.

The field rules (``check_str``, ``check_url``, ``check_enum``,
``check_credential``, ``check_webhook_id``) report into any ``ErrorSink``, so
the webhooks-as-code file loader applies the very same rules and words, keyed
by where the value stands in the file.

The webhook fields are defined once, as the ``TypedDict``s
``WebhookCreateFields`` and ``WebhookUpdateFields`` (the item types of
``create_many``/``update_many``); the field sets and the validators derive
from them, and a test checks the resource signatures against them.
"""

from __future__ import annotations

import functools
import math
import os
import re
import ssl
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, cast
from urllib.parse import quote, urlsplit

from ._deprecation import resolve_aliases
from .errors import ValidationError
from .models import SECRET_FIELDS
from .types import AuthType, EventsMode, normalize_event_type

if TYPE_CHECKING:
    from .hooks import Hooks

__all__ = [
    "validate_update_fields",
    "API_KEY_ENV",
    "AUTH_FIELDS",
    "CREATE_FIELDS",
    "SECRET_FIELDS",
    "UPDATE_FIELDS",
    "WebhookCreateFields",
    "WebhookUpdateFields",
    "ErrorSink",
    "build_create_params",
    "build_update_params",
    "check_api_key",
    "check_base_url",
    "check_concurrency",
    "check_connection_limit",
    "check_credential",
    "check_enum",
    "check_max_retries",
    "check_positive_int",
    "check_rate_limit",
    "check_str",
    "check_timeout",
    "check_url",
    "check_verify",
    "check_webhook_id",
    "required_credentials",
    "webhook_path",
]

API_KEY_ENV = "LETTR_API_KEY"
"""Where the client and the CLI read the API key when none is passed."""

_CONTROL = re.compile("[\x00-\x1f\x7f]")
NAME_MAX = 255
URL_MAX = 2048
SECRET_MAX = 255
ID_MAX = 255


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


AUTH_FIELDS: tuple[str, ...] = tuple(_AuthFields.__annotations__)
"""The delivery-credential fields, in wire order."""

CREATE_FIELDS: frozenset[str] = frozenset(WebhookCreateFields.__annotations__) | frozenset(
    AUTH_FIELDS
)
"""Keyword arguments ``webhooks.create`` accepts."""

UPDATE_FIELDS: frozenset[str] = frozenset(WebhookUpdateFields.__annotations__) | frozenset(
    AUTH_FIELDS
)
"""Keyword arguments ``webhooks.update`` accepts (``target`` is deprecated)."""

# Required per auth_type, derived from the one field list.
_BASIC_FIELDS = tuple(f for f in AUTH_FIELDS if f.startswith("auth_"))
_OAUTH_FIELDS = tuple(f for f in AUTH_FIELDS if f.startswith("oauth_"))


def _invalid(field: str, message: str, what: str | None = None) -> ValidationError:
    return ValidationError(f"invalid {what or field}", errors={field: [message]})


# -- client options -------------------------------------------------------------------


def _has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def check_api_key(value: Any) -> str:
    """The API key, stripped; refused when missing or unusable in a header (CR/LF...)."""
    if value is not None and not isinstance(value, str):
        raise _invalid("api_key", f"must be a string, not {type(value).__name__}.")
    key = (value or "").strip()
    if not key:
        raise ValidationError(
            f"no Lettr API key: pass api_key='lttr_...' or set the {API_KEY_ENV} "
            "environment variable",
            errors={"api_key": ["is required."]},
        )
    if _has_control(key) or any(ch.isspace() for ch in key) or not key.isascii():
        raise _invalid("api_key", "must not contain spaces, line breaks or non-ASCII characters.")
    return key


def check_base_url(value: Any) -> str:
    """An absolute http(s) URL without credentials, with a valid port; no trailing slash."""
    message = "must be an absolute http(s) URL."
    if not isinstance(value, str) or _has_control(value) or " " in value:
        raise _invalid("base_url", message)
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for 99999 or "abc"
        host = parts.hostname
    except ValueError:
        raise _invalid("base_url", "has an invalid port or host.") from None
    if parts.scheme not in ("http", "https") or not host:
        raise _invalid("base_url", message)
    if port == 0:
        raise _invalid("base_url", "has an invalid port or host.")
    if parts.username is not None or parts.password is not None:
        raise _invalid(
            "base_url", "must not contain credentials (user:pass@); pass api_key instead."
        )
    if parts.query or parts.fragment:
        raise _invalid("base_url", "must not have a query or fragment.")
    return value.rstrip("/")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_hooks(value: Any) -> Hooks:
    """The client's observability hooks; None means none."""
    from .hooks import NO_HOOKS, Hooks

    if value is None:
        return NO_HOOKS
    if not isinstance(value, Hooks):
        raise _invalid("hooks", "must be a lettr_async.hooks.Hooks instance.")
    return value


def check_timeout(value: Any) -> float | None:
    """Seconds for a whole call; None means no timeout (everywhere)."""
    if value is None:
        return None
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        raise _invalid("timeout", "must be a positive, finite number of seconds or None.")
    return float(value)


def check_max_retries(value: Any) -> int:
    """Retries after the first attempt: a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid("max_retries", "must be a non-negative integer.")
    return value


def check_rate_limit(value: Any) -> float | None:
    """Starting budget in requests per second, or None for no pacing."""
    if value is None:
        return None
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        raise _invalid("rate_limit", "must be a positive number of requests per second or None.")
    return float(value)


def check_positive_int(field: str, value: Any) -> int:
    """A positive integer (booleans refused), reported against ``field``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _invalid(field, "must be a positive integer.")
    return value


check_connection_limit = functools.partial(check_positive_int, "connection_limit")
"""Most simultaneous connections of a client."""

check_concurrency = functools.partial(check_positive_int, "concurrency")
"""Most items of one bulk call in flight."""


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
            raise _invalid(
                "verify",
                "must be an ssl.SSLContext that verifies the certificate and the host name "
                "(verify_mode CERT_REQUIRED, check_hostname True).",
            )
        return value
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if not os.path.exists(path):
            raise _invalid("verify", "must be the path of an existing CA bundle.")
        try:
            if os.path.isdir(path):
                return ssl.create_default_context(capath=path)
            return ssl.create_default_context(cafile=path)
        except (ssl.SSLError, OSError):
            raise _invalid("verify", "is not a readable CA bundle.") from None
    raise _invalid("verify", "must be True, a CA bundle path or an ssl.SSLContext (never False).")


# -- webhook fields -------------------------------------------------------------------


class ErrorSink(Protocol):
    """Where a field rule reports a problem, so one rule serves every caller.

    The SDK's calls collect problems by field name into one
    ``ValidationError``; the webhooks-as-code loader collects them by place
    in the file (``"<file>: webhooks[0] (name).url"``) into a ``ConfigError``.
    """

    def add(self, field: str, message: str, /) -> None:
        """Record ``message`` (never holding the value) against ``field``."""


class _Errors:
    """Collects field errors so one exception can name every bad field."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def raise_if_any(self, what: str) -> None:
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


def _check_secrets(errors: _Errors, values: Mapping[str, Any], *, required: Iterable[str]) -> None:
    needed = set(required)
    for field in AUTH_FIELDS:
        check_credential(errors, field, values.get(field), required=field in needed)


def required_credentials(auth_type: str | None) -> tuple[str, ...]:
    """The credential fields ``auth_type`` needs, in wire order (none for ``none``).

    The webhooks file derives its per-auth-type fields from this too.
    """
    if auth_type == AuthType.BASIC.value:
        return _BASIC_FIELDS
    if auth_type == AuthType.OAUTH2.value:
        return _OAUTH_FIELDS
    return ()


def _check_names(fields: Any, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(fields, Mapping):
        raise ValidationError(
            "invalid fields",
            errors={"fields": [f"must be a mapping of fields, not {type(fields).__name__}."]},
        )
    unknown = sorted(str(name) for name in fields if name not in allowed)
    if unknown:
        raise ValidationError(
            "unknown fields",
            errors={name: ["is not a field of this operation."] for name in unknown},
        )
    return fields


def _body(values: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body: given fields only, in wire order."""
    return {name: value for name, value in values.items() if value is not None}


def build_create_params(**fields: Any) -> dict[str, Any]:
    """Validate ``webhooks.create`` arguments into its JSON request body.

    Unknown names, missing required fields and bad values are all reported
    in one ``ValidationError``.
    """
    _check_names(fields, CREATE_FIELDS)
    errors = _Errors()
    name = check_str(errors, "name", fields.get("name"), required=True, max_len=NAME_MAX)
    url = check_url(errors, "url", fields.get("url"), required=True)
    auth_type = check_enum(errors, "auth_type", fields.get("auth_type"), AuthType, required=True)
    mode = check_enum(errors, "events_mode", fields.get("events_mode"), EventsMode, required=True)
    _check_secrets(errors, fields, required=required_credentials(auth_type))
    events = fields.get("events")
    checked_events: list[str] | None = None
    if mode == EventsMode.SELECTED.value:
        if events is None:
            errors.add("events", "is required when events_mode is 'selected'.")
        else:
            checked_events = _check_events(errors, events)
    elif mode == EventsMode.ALL.value and events is not None:
        errors.add("events", "must not be given when events_mode is 'all'.")
    errors.raise_if_any("webhooks.create")
    return _body(
        {
            "name": name,
            "url": url,
            "auth_type": auth_type,
            "events_mode": mode,
            **{field: fields.get(field) for field in AUTH_FIELDS},
            "events": checked_events,
        }
    )


def validate_update_fields(fields: Mapping[str, Any]) -> WebhookUpdateFields:
    """Check the fields of an ``update`` (or one ``update_many`` item) without sending.

    For tools that show a plan before writing (a CLI's ``--dry-run``): the
    same rules and the same ``ValidationError`` as the call itself, with
    event names normalised. Credentials are checked, never echoed.
    """
    if not isinstance(fields, Mapping):
        raise _invalid("fields", f"must be a mapping of fields, not {type(fields).__name__}.")
    return cast("WebhookUpdateFields", build_update_params(**fields))


def build_update_params(**given: Any) -> dict[str, Any]:
    """Validate ``webhooks.update`` arguments into its partial JSON request body.

    The deprecated ``target`` is resolved here, the one place for every entry
    point (``_deprecation``: the warning names the user's line).
    """
    fields = resolve_aliases(_check_names(given, UPDATE_FIELDS))
    errors = _Errors()
    name = check_str(errors, "name", fields.get("name"), required=False, max_len=NAME_MAX)
    url = check_url(errors, "url", fields.get("url"), required=False)
    auth_type = check_enum(errors, "auth_type", fields.get("auth_type"), AuthType, required=False)
    _check_secrets(errors, fields, required=())
    events = fields.get("events")
    checked_events = _check_events(errors, events) if events is not None else None
    active = fields.get("active")
    if active is not None and not isinstance(active, bool):
        errors.add("active", f"must be a boolean, not {type(active).__name__}.")
    if all(value is None for value in fields.values()):
        errors.add("webhook", "nothing to update: pass at least one field.")
    errors.raise_if_any("webhooks.update")
    return _body(
        {
            "name": name,
            "url": url,
            "auth_type": auth_type,
            **{field: fields.get(field) for field in AUTH_FIELDS},
            "events": checked_events,
            "active": active,
        }
    )


def webhook_path(webhook_id: Any) -> str:
    """Return ``/webhooks/<id>`` with the id percent-encoded as one segment.

    ``../domains`` becomes ``..%2Fdomains``: an id can never escape the
    resource, unlike in Lettr's own Python SDK.
    """
    if not isinstance(webhook_id, str):
        raise _invalid(
            "webhook_id", f"must be a string, not {type(webhook_id).__name__}.", "webhook id"
        )
    return _webhook_path(webhook_id)


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


@functools.lru_cache(maxsize=4096)
def _webhook_path(webhook_id: str) -> str:
    """``webhook_path`` for a str: cached, since the same ids come back (errors are not)."""
    errors = _Errors()
    if check_webhook_id(errors, "webhook_id", webhook_id) is None:
        raise ValidationError("invalid webhook id", errors=errors.by_field)
    segment = quote(webhook_id, safe="")
    if segment in (".", ".."):
        # A bare dot segment would be resolved away by URL normalisation.
        segment = segment.replace(".", "%2E")
    return "/webhooks/" + segment
