"""Compatibility home of the limiter: ``Lane``, ``current_lane`` and ``RateLimiter``.

The implementation lives in ``lettr_async.ratelimit``; the pipeline and older
imports keep using this module.
"""

from __future__ import annotations

from .ratelimit._limiter import SAFETY_FACTOR, Lane, RateLimiter, current_lane
from .ratelimit._open import open_store
from .ratelimit._store import RateStore

__all__ = ["SAFETY_FACTOR", "Lane", "RateLimiter", "RateStore", "current_lane", "open_store"]
