"""FakeLettr's team quota: Lettr's documented per-team rate limit and its headers.

Separate from the server so the window arithmetic is one small, testable
piece. It is the server's side of the limit (count, refuse, announce); the
client's side, pacing its own requests, is ``lettr_async.ratelimit``.
"""

from __future__ import annotations

import math
from typing import Final

__all__ = ["TeamQuota"]

_DEFAULT_LIMIT_HEADER: Final = 1000


class TeamQuota:
    """Fixed one-second windows aligned to Unix seconds, shared by the whole team.

    ``per_second=None`` never refuses but still produces ``X-RateLimit-*``
    headers (with a nominal limit), as every Lettr answer carries them.
    """

    def __init__(self, per_second: int | None) -> None:
        """Start with an empty window and ``per_second`` requests allowed per window."""
        self.per_second = per_second
        self._window = 0
        self._count = 0

    def _roll(self, now: float) -> None:
        window = int(now)
        if window != self._window:
            self._window = window
            self._count = 0

    def hit(self, now: float) -> bool:
        """Count one request; False (and not counted) when the window is exhausted."""
        self._roll(now)
        if self.per_second is not None and self._count >= self.per_second:
            return False
        self._count += 1
        return True

    def headers(self, now: float) -> dict[str, str]:
        """The ``X-RateLimit-*`` headers describing the current window."""
        self._roll(now)
        limit = _DEFAULT_LIMIT_HEADER if self.per_second is None else self.per_second
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - self._count)),
            "X-RateLimit-Reset": str(self._window + 1),
        }

    def retry_after(self, now: float) -> int:
        """Whole seconds until the window ends, for a 429's ``Retry-After``."""
        return max(1, math.ceil(self._window + 1 - now))

    def reset(self) -> None:
        """Forget the current window's count."""
        self._window = 0
        self._count = 0
