"""Reading ``X-RateLimit-*`` headers as hints: a value we cannot use is ignored.

A proxy, a misconfigured server or a millisecond timestamp must never break
a call, so every parse is bounded and total; each header that had to be
ignored is logged once per limiter, not once per call. A limit above
``MAX_LIMIT`` is not a mistake to ignore (the server grants at least that
much): it is read as ``MAX_LIMIT``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping

from multidict import istr

__all__ = ["HeaderReader", "Reading"]

logger = logging.getLogger("lettr_async")

MAX_LIMIT = 100_000  # requests per second: a larger announced limit is read as this
MAX_REMAINING = 10_000_000
# A reset further than a day away (either reading) is not a plausible window end.
MAX_RESET_AHEAD = 86_400.0


Reading = tuple[int | None, int | None, float | None]
"""``(limit, remaining, reset)``: requests per second, requests left, window end (epoch s)."""

# Case-insensitive keys built once: aiohttp's headers (a CIMultiDictProxy)
# fold a plain str key on every look-up, an istr's folding is cached. In a
# plain dict an istr is the str it spells.
_LIMIT = istr("X-RateLimit-Limit")
_REMAINING = istr("X-RateLimit-Remaining")
_RESET = istr("X-RateLimit-Reset")


class HeaderReader:
    """Parses the headers of each response; remembers which ones it already warned about.

    A server repeats the same values on most answers, so the last raw
    values and their reading are kept: identical headers cost three
    look-ups and a comparison, not three float parses.
    """

    def __init__(self, wall_clock: Callable[[], float] = time.time) -> None:
        """``wall_clock`` gives epoch seconds (to read ``X-RateLimit-Reset``)."""
        self._wall_clock = wall_clock
        self._warned: set[str] = set()
        self._raw: tuple[str | None, str | None, str | None] = (None, None, None)
        self._reading: Reading = (None, None, None)
        # The reading of _raw holds until this wall-clock time (a Reset read
        # as an epoch leaves the plausible window a day after it).
        self._fresh_until = math.inf

    def read(self, headers: Mapping[str, str]) -> Reading:
        """``(limit, remaining, reset)`` of one response; None for a header absent or unusable."""
        get = headers.get
        raw = (get(_LIMIT), get(_REMAINING), get(_RESET))
        if raw == self._raw and (raw[2] is None or self._wall_clock() <= self._fresh_until):
            return self._reading
        self._fresh_until = math.inf
        limit = self._count(_LIMIT, raw[0], 1, math.inf)
        reading = (
            None if limit is None else min(limit, MAX_LIMIT),
            self._count(_REMAINING, raw[1], 0, MAX_REMAINING),
            None if raw[2] is None else self._reset(raw[2]),
        )
        self._raw, self._reading = raw, reading
        return reading

    def _number(self, name: str, raw: object) -> float | None:
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

    def _count(self, name: str, raw: str | None, least: float, most: float) -> int | None:
        """A whole count (the limit, the requests left) within [least, most]; else ignored."""
        value = self._number(name, raw)
        if value is None:
            return None
        if not least <= value <= most:
            self._ignore(name, raw)
            return None
        return int(value)

    def _reset(self, raw: str) -> float | None:
        """Epoch seconds when the window ends: read as epoch seconds or seconds-from-now."""
        value = self._number(_RESET, raw)
        if value is None:
            return None
        now = self._wall_clock()
        if now - MAX_RESET_AHEAD <= value <= now + MAX_RESET_AHEAD:
            self._fresh_until = value + MAX_RESET_AHEAD
            return value
        self._fresh_until = -math.inf  # relative, or far ahead: depends on the time
        if 0 <= value <= MAX_RESET_AHEAD:
            return now + value
        self._ignore(_RESET, raw)
        return None
