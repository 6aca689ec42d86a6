"""Reading ``X-RateLimit-*`` headers as hints: a value we cannot use is ignored.

A proxy, a misconfigured server or a millisecond timestamp must never break
a call, so every parse is bounded and total; each header that had to be
ignored is logged once per limiter, not once per call.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone

__all__ = ["HeaderReader"]

logger = logging.getLogger("lettr_async")

MAX_LIMIT = 100_000  # requests per second: more is not a plausible budget
MAX_REMAINING = 10_000_000
# A reset further than a day away (either reading) is not a plausible window end.
MAX_RESET_AHEAD = 86_400.0


class HeaderReader:
    """Parses the headers of each response; remembers which ones it already warned about."""

    def __init__(self, wall_clock: Callable[[], float] = time.time) -> None:
        """``wall_clock`` gives epoch seconds (to read ``X-RateLimit-Reset``)."""
        self._wall_clock = wall_clock
        self._warned: set[str] = set()

    def _number(self, headers: Mapping[str, str], name: str) -> float | None:
        raw = headers.get(name)
        if raw is None:
            return None
        try:
            value = float(str(raw).strip())
        except (ValueError, TypeError, OverflowError):
            value = math.nan
        if math.isfinite(value):
            return value
        self._ignore(name, raw)
        return None

    def _ignore(self, name: str, raw: object) -> None:
        if name not in self._warned:
            self._warned.add(name)
            shown = str(raw)[:40]
            logger.warning("ignoring an unusable %s header (%r); it is only a hint", name, shown)

    def limit(self, headers: Mapping[str, str]) -> int | None:
        """Requests per second the server grants, or None."""
        value = self._number(headers, "X-RateLimit-Limit")
        if value is None:
            return None
        if not 1 <= value <= MAX_LIMIT:
            self._ignore("X-RateLimit-Limit", headers.get("X-RateLimit-Limit"))
            return None
        return int(value)

    def remaining(self, headers: Mapping[str, str]) -> int | None:
        """Requests left in the server's current window, or None."""
        value = self._number(headers, "X-RateLimit-Remaining")
        if value is None:
            return None
        if not 0 <= value <= MAX_REMAINING:
            self._ignore("X-RateLimit-Remaining", headers.get("X-RateLimit-Remaining"))
            return None
        return int(value)

    def reset(self, headers: Mapping[str, str]) -> float | None:
        """Epoch seconds when the window ends: read as epoch seconds or seconds-from-now."""
        value = self._number(headers, "X-RateLimit-Reset")
        if value is None:
            return None
        now = self._wall_clock()
        if now - MAX_RESET_AHEAD <= value <= now + MAX_RESET_AHEAD:
            return value
        if 0 <= value <= MAX_RESET_AHEAD:
            return now + value
        self._ignore("X-RateLimit-Reset", headers.get("X-RateLimit-Reset"))
        return None

    @staticmethod
    def as_datetime(epoch: float) -> datetime:
        """The reset time as an aware UTC datetime (always in range after ``reset``)."""
        return datetime.fromtimestamp(epoch, tz=timezone.utc)
