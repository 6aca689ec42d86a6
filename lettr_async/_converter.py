"""The one cattrs converter that owns every (de)serialisation rule.

Responses are structured into envelope classes that mirror the contract, so
a missing or mistyped field anywhere becomes one ``UnexpectedResponseError``
naming its path (``$.data.webhooks[0].enabled``), never a KeyError. A valid
body takes a faster route (``_fast``, ``structure_webhook``) to the same
models; only a rejected one pays for the reference ``converter``'s detail.
Request bodies are unstructured from attrs classes, dropping unset fields.

``loads_json`` is the one JSON decoder for untrusted bytes (API responses
and webhook deliveries): whatever arrives, it returns a value or raises
``ValueError``, never ``RecursionError``.
"""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Final, TypeVar

import attrs
import cattrs

from .errors import UnexpectedResponseError
from .models import Webhook
from .types import (
    EVENT_TYPES,
    AuthType,
    EventsMode,
    LastStatus,
    is_known_event_type,
    normalize_event_type,
)

__all__ = [
    "MAX_JSON_DEPTH",
    "converter",
    "json_depth",
    "loads_json",
    "structure_response",
    "structure_webhook",
]

T = TypeVar("T")
_E = TypeVar("_E", bound=enum.Enum)

converter = cattrs.Converter(forbid_extra_keys=False)
"""The reference converter: detailed validation, so its errors name every bad field's path."""

_fast = cattrs.Converter(forbid_extra_keys=False, detailed_validation=False)
"""The same rules without detailed validation: the hot path tries it first.

cattrs' detailed validation wraps every field in ``try``/``except`` and
collects errors, which costs on every success; a body it rejects is
structured again by ``converter``, only to build the error message.
"""

MAX_JSON_DEPTH: Final = 200
"""Deepest nesting of arrays/objects ``loads_json(..., max_depth=...)`` callers use.

Lettr's bodies are a handful of levels deep; hundreds of levels only come
from a hostile or broken sender and would make later ``repr`` or
``json.dumps`` calls recurse too deeply.
"""


def json_depth(value: Any, limit: int) -> int:
    """Nesting depth of a decoded JSON value (scalars: 0), counted up to ``limit + 1``.

    Iterative, so it cannot itself hit the recursion limit.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return deepest
        stack.extend((child, depth) for child in children if isinstance(child, (dict, list)))
    return deepest


_decode_text = json.JSONDecoder().decode
"""What ``json.loads`` runs on a ``str`` without options (its default decoder's settings)."""


def loads_json(data: bytes | bytearray | str, *, max_depth: int | None = None) -> Any:
    """Decode untrusted JSON; raise ``ValueError`` (only) for anything unusable.

    Why: ``json.loads`` raises ``RecursionError`` on a couple of kilobytes of
    nested brackets, which callers catching ``ValueError`` would let escape.
    Here invalid UTF-8, invalid JSON, excessive nesting (``RecursionError``,
    or more than ``max_depth`` levels when given) and over-long integer
    literals all become a ``ValueError`` whose message names the problem.
    Callers map it to their own typed error (``UnexpectedResponseError``,
    ``WebhookPayloadError``).
    """
    try:
        if not isinstance(data, str) and data[:1] == b"{" and data[1:2] != b"\x00":
            # Bytes json.loads would sniff as UTF-8 (no BOM, not UTF-16/32): its
            # own steps for them, without the sniffing (a tenth of a response's decoding).
            value = _decode_text(data.decode("utf-8", "surrogatepass"))
        else:
            value = json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if max_depth is not None and json_depth(value, max_depth) > max_depth:
        raise ValueError(f"JSON nested more than {max_depth} levels deep")
    return value


_MAX_TIMESTAMP_LENGTH: Final = 64
_EDGE_YEARS: Final = frozenset({1, 9999})


def _fromisoformat_utc_z(text: str) -> datetime:
    """``datetime.fromisoformat`` that also reads a trailing "Z"/"z" as +00:00 (Python 3.10)."""
    return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)


_fromisoformat: Final[Callable[[str], datetime]] = (
    datetime.fromisoformat if sys.version_info >= (3, 11) else _fromisoformat_utc_z
)
"""The first parse of a timestamp: Python >= 3.11 reads "Z" itself, so no rewrite and no
Python call; what it rejects is parsed again the 3.10 way (``_datetime_hook``)."""


# Each hook below comes in two flavours, for ``X`` and for ``X | None``: one
# function per field, where cattrs' own ``Optional`` hook (or a wrapper)
# would add a call per field on every response.


def _datetime_hook(optional: bool) -> Callable[[Any, Any], datetime | None]:
    def structure(value: Any, _: Any) -> datetime | None:
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
        if len(value) > _MAX_TIMESTAMP_LENGTH:
            raise ValueError("expected an ISO 8601 timestamp, got a longer string")
        try:
            parsed = _fromisoformat(value)
        except ValueError:  # "z", "2024-01-15Z"...: the value or error they always had
            parsed = _fromisoformat_utc_z(value)
        if parsed.tzinfo is None:
            raise ValueError(f"timestamp {value!r} has no time zone")
        # 0001-01-01T00:00+01:00 parses, but every comparison or conversion of
        # it later raises OverflowError: reject it here, where it is named. An
        # offset is under a day, so only the first and last years can overflow.
        if parsed.year in _EDGE_YEARS:
            try:
                parsed.astimezone(timezone.utc)
            except OverflowError:
                raise ValueError(f"timestamp {value!r} is out of range in UTC") from None
        return parsed

    return structure


def _exact_type_hook(cls: type, name: str, optional: bool) -> Callable[[Any, Any], Any]:
    """``str`` and ``bool`` as they are: cattrs' default would turn 42 into "42" or True."""
    message = f"expected {name}, got "

    def structure(value: Any, _: Any) -> Any:
        if isinstance(value, cls) or (value is None and optional):
            return value
        raise TypeError(message + type(value).__name__)

    return structure


_KNOWN_EVENTS: Final = frozenset(EVENT_TYPES)


def _structure_event_types(value: Any, _: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise TypeError("expected a list of strings or null")
    try:
        if _KNOWN_EVENTS.issuperset(value):  # the usual case, checked in C: canonical names
            return list(value)
    except TypeError:  # an unhashable item: the loop below names the problem
        pass
    names = []
    for name in value:  # canonical names are kept as they are
        if not isinstance(name, str):
            raise TypeError("expected a list of strings or null")
        if name not in _KNOWN_EVENTS:
            # Unknown names from a newer server are kept as they are, not rejected.
            name = normalize_event_type(name) if is_known_event_type(name) else name
        names.append(name)
    return names


def _members(cls: type[_E]) -> dict[Any, _E]:
    """A str enum's members by value: how every enum field is looked up."""
    return {member.value: member for member in cls}


def _enum_hook(cls: type[_E], optional: bool) -> Callable[[Any, Any], _E | None]:
    """The structure hook of one str enum: a dict lookup by value, not a loop over members.

    Needed explicitly: the str hook would otherwise claim str enums. The
    message never repeats the value: it may be huge or hold control codes.
    """
    members = _members(cls)
    message = f"expected one of {', '.join(repr(m.value) for m in cls)}"

    def structure(value: Any, _: Any) -> _E | None:
        if value is None and optional:
            return None
        member = members.get(value) if isinstance(value, str) else None
        if member is None:
            raise ValueError(message)
        return member

    return structure


def _register(target: cattrs.Converter) -> None:
    for optional in (False, True):
        hooks: list[tuple[Any, Callable[[Any, Any], Any]]] = [
            (datetime, _datetime_hook(optional)),
            (str, _exact_type_hook(str, "a string", optional)),
            (bool, _exact_type_hook(bool, "a boolean", optional)),
            *((e, _enum_hook(e, optional)) for e in (AuthType, EventsMode, LastStatus)),
        ]
        for cls, hook in hooks:
            target.register_structure_hook(cls | None if optional else cls, hook)
    target.register_structure_hook(list[str] | None, _structure_event_types)


_register(converter)
_register(_fast)

_timestamp: Final = _datetime_hook(optional=False)
_AUTH_TYPES: Final = _members(AuthType)
_LAST_STATUS_OR_NULL: Final = {None: None, **_members(LastStatus)}


def _structure_webhook(o: Any, _: Any) -> Webhook:
    """``_fast``'s hook for ``Webhook``: every field read and checked in this one function.

    cattrs' generated hook calls a hook per field, each a Python call (issue
    23: 270 bytecodes per webhook with those calls, 170 here). The same
    rules run inline: ``str``/``bool`` by ``isinstance`` as
    ``_exact_type_hook``, enums by ``_members`` lookup as ``_enum_hook``,
    event types and timestamps by the very hooks ``converter`` uses, called
    only for values that are not null. ``o.get`` stands for cattrs' "absent:
    the default", as every optional field defaults to None and structures
    null to None. It never names what is wrong: whatever it rejects (any
    exception) is structured again by ``converter``, whose error says where.
    Equal models, and no fallback for a valid body, are tested
    (tests/test_converter_fast_path.py).
    """
    id_, name, url = o["id"], o["name"], o["url"]
    enabled, has_auth_credentials = o["enabled"], o["has_auth_credentials"]
    if not (
        isinstance(id_, str)
        and isinstance(name, str)
        and isinstance(url, str)
        and isinstance(enabled, bool)
        and isinstance(has_auth_credentials, bool)
    ):
        raise TypeError("a string or boolean field of another type")
    event_types = o.get("event_types")
    if event_types is not None:
        event_types = _structure_event_types(event_types, None)
    last_successful_at = o.get("last_successful_at")
    if last_successful_at is not None:
        last_successful_at = _timestamp(last_successful_at, None)
    last_failure_at = o.get("last_failure_at")
    if last_failure_at is not None:
        last_failure_at = _timestamp(last_failure_at, None)
    return Webhook(
        id_,
        name,
        url,
        enabled,
        _AUTH_TYPES[o["auth_type"]],  # KeyError for an unknown value, TypeError unhashable
        has_auth_credentials,
        event_types,
        last_successful_at,
        last_failure_at,
        _LAST_STATUS_OR_NULL[o.get("last_status")],
    )


# Also what ``_fast`` calls for each item of ``WebhookListData.webhooks``.
_fast.register_structure_hook(Webhook, _structure_webhook)


# The envelopes are mutable slotted classes: they live only between the decoder
# and the caller, which takes ``.data`` out; frozen ones would pay a wrapper
# call per field (``object.__setattr__``) on every response.


@attrs.define
class WebhookEnvelope:
    """``{"message": ..., "data": WebhookView}``: create, get and update."""

    data: Webhook
    message: str | None = None


@attrs.define
class WebhookListData:
    """The ``data`` member of the list response."""

    webhooks: list[Webhook]


@attrs.define
class WebhookListEnvelope:
    """``{"message": ..., "data": {"webhooks": [...]}}``: list."""

    data: WebhookListData
    message: str | None = None


@attrs.define
class MessageEnvelope:
    """``{"message": ...}``: delete."""

    message: str | None = None


_fast_hooks: dict[type, Callable[[Any, Any], Any]] = {}
"""``_fast``'s hook per envelope class, looked up once (``_fast.structure`` dispatches per call)."""


def structure_response(body: Any, cls: type[T]) -> T:
    """Structure a decoded success body, or raise ``UnexpectedResponseError``."""
    if not isinstance(body, dict):
        raise UnexpectedResponseError(
            f"unexpected response shape: expected a JSON object, got {type(body).__name__} @ $",
            path="$",
        )
    fast = _fast_hooks.get(cls)
    if fast is None:
        fast = _fast_hooks[cls] = _fast.get_structure_hook(cls)
    try:
        return fast(body, cls)  # type: ignore[no-any-return]
    except Exception:  # noqa: S110 - the reference converter below says what is wrong
        pass
    try:
        return converter.structure(body, cls)
    except Exception as exc:  # cattrs raises ClassValidationError/ExceptionGroup
        details = _describe_safely(exc)
        raise UnexpectedResponseError(
            f"unexpected response shape: {details}", path=_first_path(details)
        ) from None


def structure_webhook(body: Any) -> Webhook:
    """The ``data`` of a ``WebhookEnvelope`` body, without building the envelope.

    The answer of get, create and update, the hottest calls: the envelope is
    checked as ``converter`` checks it (a dict; ``message`` absent, null or
    a string; ``data`` present) and ``data`` goes to ``_structure_webhook``.
    Anything either rejects goes through ``structure_response``, so the
    error (and any model) is the one the envelope gives.
    """
    if isinstance(body, dict):
        message = body.get("message")
        if message is None or isinstance(message, str):
            try:
                return _structure_webhook(body["data"], Webhook)
            except Exception:  # noqa: S110 - structure_response below says what is wrong
                pass
    return structure_response(body, WebhookEnvelope).data


def _describe_safely(exc: Exception) -> str:
    try:
        return _describe(exc)
    except Exception:  # describing a pathological value must not replace the error
        return f"{type(exc).__name__} @ $"


def _describe(exc: Exception) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(exc, path="$"))
    return f"{type(exc).__name__}: {exc} @ $"


def _first_path(details: str) -> str | None:
    marker = " @ "
    first = details.split("; ", 1)[0]
    return first.rsplit(marker, 1)[1] if marker in first else None
