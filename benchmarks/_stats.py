"""Summaries (median and spread) and the interleaved round runner."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

__all__ = ["Contender", "interleave", "summarize"]

T = TypeVar("T")

Contender = Callable[[], Mapping[str, float]]
"""Runs one round of a contender and returns its metrics, e.g. ``{"rps": ...}``."""


def summarize(samples: Sequence[float]) -> dict[str, Any]:
    """Median, min, max and interquartile range of the samples."""
    values = sorted(samples)
    if not values:
        return {"median": None, "min": None, "max": None, "q1": None, "q3": None, "samples": []}
    if len(values) >= 2:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    else:
        q1 = q3 = values[0]
    return {
        "median": statistics.median(values),
        "min": values[0],
        "max": values[-1],
        "q1": q1,
        "q3": q3,
        "samples": list(samples),
    }


def interleave(
    contenders: Mapping[str, Contender],
    *,
    rounds: int,
    warmup: int = 1,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Run the contenders A B C, B C A, ... for ``warmup`` + ``rounds`` rounds.

    The starting contender rotates each round so none always runs first
    (right after a garbage-heavy neighbour, say). Warm-up rounds are
    discarded. Returns ``{contender: {metric: summary}}``.
    """
    names = list(contenders)
    samples: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    for round_index in range(warmup + rounds):
        shift = round_index % len(names) if names else 0
        for name in names[shift:] + names[:shift]:
            metrics = contenders[name]()
            if round_index < warmup:
                continue
            for metric, value in metrics.items():
                samples[name].setdefault(metric, []).append(value)
        if progress is not None:
            label = "warm-up" if round_index < warmup else f"round {round_index - warmup + 1}"
            progress(f"  {label} done")
    return {
        name: {metric: summarize(values) for metric, values in per.items()}
        for name, per in samples.items()
    }
