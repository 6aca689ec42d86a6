"""Remembering which events were already handled, so duplicates are dropped.

Lettr retries deliveries and says duplicates happen: receivers de-duplicate
by ``event_id``. The store interface is a single atomic "add if absent"
(plus ``discard`` to undo a claim) because a separate ``seen`` then ``mark``
lets two concurrent deliveries of the same event both pass the check.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["DEFAULT_DEDUP_TTL", "DedupStore", "InMemoryDedupStore"]

DEFAULT_DEDUP_TTL: float = 48 * 3600.0
"""Default memory of an event id: Lettr's retries span about 35 hours."""


@runtime_checkable
class DedupStore(Protocol):
    """Where a receiver records the event ids it has claimed.

    Implement it to share de-duplication between processes. ``add`` must be
    atomic; with Django's cache it is one line, because ``cache.add`` only
    writes when the key is absent and says whether it did::

        class CacheStore:
            def add(self, event_id: str) -> bool:
                return cache.add(f"lettr:{event_id}", 1, timeout=48 * 3600)

            def discard(self, event_id: str) -> None:
                cache.delete(f"lettr:{event_id}")

    (``lettr_async.events.django.DjangoCacheDedupStore`` ships exactly this.)
    With Redis, ``SET key 1 NX EX <ttl>`` plays the same role.
    """

    def add(self, event_id: str) -> bool:
        """Claim ``event_id``; return ``False`` if it was already claimed.

        Atomic "add if absent", so two concurrent deliveries of one event
        cannot both be processed.
        """
        ...

    def discard(self, event_id: str) -> None:
        """Forget ``event_id`` so a retried delivery processes it again.

        Called when the handler fails after the id was claimed.
        """
        ...


class InMemoryDedupStore:
    """Thread-safe, bounded in-memory ``DedupStore``: the default.

    Why: zero set-up for single-process receivers. It remembers at most
    ``max_size`` ids (the oldest are forgotten first) for ``ttl`` seconds
    (``None``: until evicted). It does not survive restarts nor span
    processes: use a shared store (Django's cache, Redis) for that.
    """

    __slots__ = ("_clock", "_entries", "_lock", "_max_size", "_ttl")

    def __init__(
        self,
        max_size: int = 10_000,
        ttl: float | None = DEFAULT_DEDUP_TTL,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        if ttl is not None and ttl <= 0:
            raise ValueError("ttl must be positive or None")
        self._max_size = max_size
        self._ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def _purge(self, now: float) -> None:
        if self._ttl is None:
            return
        entries = self._entries
        while entries:
            first_id, added = next(iter(entries.items()))
            if now - added < self._ttl:
                break
            del entries[first_id]

    def add(self, event_id: str) -> bool:
        """Claim ``event_id``; ``False`` if it is already remembered."""
        with self._lock:
            now = self._clock()
            self._purge(now)
            if event_id in self._entries:
                return False
            self._entries[event_id] = now
            while len(self._entries) > self._max_size:
                self._entries.popitem(last=False)
            return True

    def discard(self, event_id: str) -> None:
        """Forget ``event_id`` (no error if absent)."""
        with self._lock:
            self._entries.pop(event_id, None)

    def clear(self) -> None:
        """Forget every id (for tests, or after replaying events on purpose)."""
        with self._lock:
            self._entries.clear()

    def __contains__(self, event_id: object) -> bool:
        """Tell whether ``event_id`` is remembered (for tests and debugging)."""
        with self._lock:
            self._purge(self._clock())
            return event_id in self._entries

    def __len__(self) -> int:
        """Number of remembered ids (for tests and monitoring)."""
        with self._lock:
            self._purge(self._clock())
            return len(self._entries)

    def __repr__(self) -> str:
        return f"InMemoryDedupStore(max_size={self._max_size}, ttl={self._ttl}, size={len(self)})"
