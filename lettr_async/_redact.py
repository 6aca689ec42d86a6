"""Take the client's own secrets out of an error before anyone sees it.

Why: a server, or a proxy in front of it, may echo what it received: a 401
body quoting ``Bearer lttr_...``, a 500 whose debug headers repeat the
request, a 422 message quoting a webhook password, a malformed response the
parser error shows bytes of. An exception travels into logs, error trackers
and tracebacks, so whatever it stores (message, body, headers, field errors,
request id) has the API key and the credentials the call sent replaced by
``***``, in the form they were sent (as is, and JSON-escaped).

Secrets shorter than ``SHORTEST_SECRET`` characters are left alone: masking
them would garble ordinary words (and reveal where a short secret occurs),
while hiding nothing a guess would not find.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

from .errors import LettrError

__all__ = ["REDACTED", "SHORTEST_SECRET", "redact"]

REDACTED = "***"
"""What a secret is replaced with."""
SHORTEST_SECRET = 6
"""Secrets of fewer characters are not redacted (see the module docstring)."""


def redact(error: LettrError, secrets: Iterable[str | None]) -> LettrError:
    """Replace every occurrence of ``secrets`` in what ``error`` stores; returns ``error``.

    Strings, JSON containers (changed in place: the decoded body belongs to
    the error) and header mappings among the error's attributes and ``args``
    are covered; other objects are left as they are.
    """
    patterns = _patterns(secrets)
    if not patterns:
        return error
    for name, value in list(vars(error).items()):
        cleaned = _clean(value, patterns)
        if cleaned is not value:
            setattr(error, name, cleaned)
    error.args = tuple(_clean(arg, patterns) for arg in error.args)
    return error


def _patterns(secrets: Iterable[str | None]) -> tuple[str, ...]:
    forms: set[str] = set()
    for secret in secrets:
        if isinstance(secret, str) and len(secret) >= SHORTEST_SECRET:
            forms.update((secret, json.dumps(secret)[1:-1]))
    return tuple(sorted(forms, key=len, reverse=True))


def _text(text: str, patterns: tuple[str, ...]) -> str:
    for pattern in patterns:
        if pattern in text:
            text = text.replace(pattern, REDACTED)
    return text


def _clean(value: Any, patterns: tuple[str, ...]) -> Any:
    """``value`` without the secrets: a new string or header mapping, a container in place."""
    if isinstance(value, str):
        return _text(value, patterns)
    if isinstance(value, (CIMultiDictProxy, CIMultiDict)):
        return CIMultiDictProxy(
            CIMultiDict((_text(k, patterns), _text(v, patterns)) for k, v in value.items())
        )
    if isinstance(value, (dict, list)):
        _clean_json(value, patterns)
    return value


def _clean_json(root: dict[Any, Any] | list[Any], patterns: tuple[str, ...]) -> None:
    """Clean every string of a decoded JSON document in place, without recursion.

    A hostile body may nest as deep as the JSON decoder allowed: an explicit
    stack cannot overflow Python's.
    """
    stack: list[dict[Any, Any] | list[Any]] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            items = list(node.items())
            node.clear()
            for key, item in items:
                node[_text(key, patterns) if isinstance(key, str) else key] = item
        entries = node.items() if isinstance(node, dict) else enumerate(node)
        for index, item in list(entries):
            if isinstance(item, str):
                node[index] = _text(item, patterns)
            elif isinstance(item, (dict, list)):
                stack.append(item)
