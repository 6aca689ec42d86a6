"""Deprecated keyword aliases, resolved in one place.

``target`` is the deprecated name of ``url`` (``webhooks.update``, the items
of ``update_many``, ``validate_update_fields``). The warning must name the
user's line, whichever entry point reached the resolution and however deep
it sits, so instead of a stack level counted by hand at each call site the
warning walks out of the SDK's own frames (``lettr_async``, ``lettr_sync``)
to the first frame that is not ours.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping
from typing import Any

__all__ = ["ALIASES", "resolve_alias", "resolve_aliases"]

ALIASES: Mapping[str, str] = {"target": "url"}
"""Deprecated keyword -> its replacement."""

_OURS = frozenset({"lettr_async", "lettr_sync"})


def resolve_alias(old_name: str, old_value: Any, new_name: str, new_value: Any) -> Any:
    """Return ``old_value`` for ``new_name``, warning at the caller's line.

    Giving both is a ``TypeError``, as in Lettr's own SDK.
    """
    if new_value is not None:
        raise TypeError(f"pass either {new_name} or {old_name} (deprecated), not both")
    warnings.warn(
        f"'{old_name}' is deprecated; pass '{new_name}' instead",
        DeprecationWarning,
        stacklevel=_caller_level(),
    )
    return old_value


def resolve_aliases(fields: Mapping[str, Any]) -> Mapping[str, Any]:
    """``fields`` with every deprecated keyword moved to its replacement (warning once each)."""
    if all(fields.get(old) is None for old in ALIASES):
        return fields  # the common case: no alias used, nothing copied
    out = dict(fields)
    for old, new in ALIASES.items():
        value = out.pop(old, None)
        if value is not None:
            out[new] = resolve_alias(old, value, new, out.get(new))
    return out


def _caller_level() -> int:
    """``warnings.warn``'s stacklevel, seen from ``resolve_alias``, of the first frame not ours.

    Counting from this function's own frame (0), ``resolve_alias`` is 1, which
    is also stacklevel 1: the number of our frames is the level of the next one.
    """
    level = 0
    frame = inspect.currentframe()
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] in _OURS:
        level += 1
        frame = frame.f_back
    return level
