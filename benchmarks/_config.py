"""Scenario sizes for a full run and for ``--quick``."""

from __future__ import annotations

import attrs

__all__ = ["Config"]


@attrs.frozen
class Config:
    """How much work each scenario does."""

    quick: bool
    rounds: int
    warmup: int
    sequential_calls: int
    concurrency_calls: int
    bulk_webhooks: int
    bulk_rate_limit: int
    bulk_rounds: int
    coldstart_runs: int
    sync_baseline: str | None = None
    """A checkout whose ``lettr_sync`` races this one in the sequential scenario."""

    @classmethod
    def make(cls, *, quick: bool, rounds: int | None) -> Config:
        if quick:
            return cls(
                quick=True,
                rounds=rounds or 1,
                # A smoke run checks the harness runs and reports, not the
                # numbers: no discarded warm-up rounds (cold start's warm-up
                # alone was half its fresh interpreters).
                warmup=0,
                sequential_calls=30,
                concurrency_calls=64,
                bulk_webhooks=50,
                bulk_rate_limit=100,
                bulk_rounds=rounds or 1,
                coldstart_runs=1,
            )
        return cls(
            quick=False,
            rounds=rounds or 5,
            warmup=1,
            sequential_calls=500,
            concurrency_calls=1024,
            bulk_webhooks=1000,
            bulk_rate_limit=100,
            bulk_rounds=min(rounds or 2, 3),
            coldstart_runs=max(rounds or 7, 5),
        )
