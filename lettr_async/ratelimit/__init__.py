"""Client-side rate limiting: pacing to the team's budget, shared across processes.

Most users only touch ``AsyncLettr(rate_limit_store=...)`` (or the
``LETTR_RATE_LIMIT_URL`` environment variable); the store classes are here
for those who build a store object themselves (e.g. to set the key or a
timeout) or write their own: a ``RateStore`` subclass whose ``take`` gets a
``TakeRequest`` and returns a ``Slot``, running ``take_slot`` on the
``PacingState`` it keeps (docs/many-processes.md shows one). ``Clock`` is
the time the limiter, and the pipeline of its client, schedule on.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._clock import Clock
from ._gcra import PacingState, Slot, TakeRequest, take_slot
from ._open import RATE_LIMIT_URL_ENV, open_store, team_key
from ._store import MemoryStore, RateStore

if TYPE_CHECKING:
    from ._redis import RedisStore
    from ._sqlite import SQLiteStore

__all__ = [
    "RATE_LIMIT_URL_ENV",
    "Clock",
    "MemoryStore",
    "PacingState",
    "RateStore",
    "RedisStore",
    "SQLiteStore",
    "Slot",
    "TakeRequest",
    "open_store",
    "take_slot",
    "team_key",
]


_BACKENDS = {"SQLiteStore": "._sqlite", "RedisStore": "._redis"}


def __getattr__(name: str) -> object:
    # The backends load when asked for: sqlite3 alone costs ~2 ms of import time.
    if name in _BACKENDS:
        return getattr(importlib.import_module(_BACKENDS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
