"""Counting starts in sliding windows: the pacing invariant the limiter guarantees."""

from __future__ import annotations

__all__ = ["max_in_any_window"]


def max_in_any_window(times: list[float], window: float = 1.0) -> int:
    """The most starts that fall in any half-open window ``[t, t + window)``."""
    times = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best
