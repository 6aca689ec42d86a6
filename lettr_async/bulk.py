"""Bounded-concurrency bulk runs where every input gets exactly one outcome.

A bulk run never loses an item: it succeeds, fails with its typed error, or
(after ``fail_fast`` tripped) fails with ``NotAttemptedError``. Workers run
in an anyio task group in the limiter's low-priority lane, so interactive
calls on the same client overtake them; cancelling the caller cancels the
group and with it every in-flight request.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import anyio
import attrs

from ._ratelimit import Lane, current_lane
from .errors import BulkError, LettrError, NotAttemptedError

__all__ = ["BulkOutcome", "BulkResult", "ProgressCallback", "run_bulk"]

V = TypeVar("V")

logger = logging.getLogger("lettr_async")

ProgressCallback = Callable[[int, int], None]
"""``on_progress(done, total)``, called each time an item gets its outcome.

An exception raised by the callback is logged (logger ``lettr_async``, with
its traceback) and otherwise ignored: progress reporting never costs the
outcomes of work already done, nor stops the run.
"""


@attrs.frozen
class BulkOutcome(Generic[V]):
    """The outcome of one bulk input.

    ``key`` is the webhook id (update, delete) or the input's index
    (create); exactly one of ``value`` and ``error`` is meaningful: ``error``
    is None on success (``value`` is None for deletes).
    """

    key: str | int
    value: V | None = None
    error: LettrError | None = None

    @property
    def ok(self) -> bool:
        """True when this item succeeded."""
        return self.error is None


@attrs.frozen
class BulkResult(Generic[V]):
    """All outcomes of a bulk run, one per input, in input order."""

    outcomes: list[BulkOutcome[V]]

    @property
    def succeeded(self) -> list[BulkOutcome[V]]:
        """The outcomes without an error."""
        return [o for o in self.outcomes if o.error is None]

    @property
    def failed(self) -> list[BulkOutcome[V]]:
        """The outcomes with an error."""
        return [o for o in self.outcomes if o.error is not None]

    @property
    def ok(self) -> bool:
        """True when no item failed."""
        return all(o.error is None for o in self.outcomes)

    def raise_for_errors(self) -> None:
        """Raise ``BulkError`` summarising the failures, if there are any."""
        failed = self.failed
        if failed:
            raise BulkError(failed, len(self.outcomes))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.outcomes)


async def run_bulk(
    items: Sequence[tuple[str | int, Callable[[], Awaitable[V]]]],
    *,
    concurrency: int,
    fail_fast: bool,
    on_progress: ProgressCallback | None,
) -> BulkResult[V]:
    """Run each ``(key, call)`` with at most ``concurrency`` in flight."""
    total = len(items)
    outcomes: list[BulkOutcome[V] | None] = [None] * total
    next_index = 0
    done = 0
    stopped = False

    def finish(index: int, outcome: BulkOutcome[V]) -> None:
        nonlocal done
        outcomes[index] = outcome
        done += 1
        if on_progress is not None:
            try:
                on_progress(done, total)
            except Exception:
                logger.exception("on_progress(%d, %d) raised; the bulk run goes on", done, total)

    async def worker() -> None:
        nonlocal next_index, stopped
        current_lane.set(Lane.BULK)
        while next_index < total:
            index = next_index
            next_index += 1
            key, call = items[index]
            if stopped:
                finish(index, BulkOutcome(key, error=NotAttemptedError(_not_attempted(key))))
                continue
            try:
                value = await call()
            except LettrError as exc:
                finish(index, BulkOutcome(key, error=exc))
                stopped = stopped or fail_fast
            else:
                finish(index, BulkOutcome(key, value=value))

    async with anyio.create_task_group() as group:
        for _ in range(min(concurrency, total)):
            group.start_soon(worker)
    assert all(o is not None for o in outcomes)
    return BulkResult([o for o in outcomes if o is not None])


def _not_attempted(key: str | int) -> str:
    return f"not attempted: an earlier item failed and fail_fast=True stopped the run ({key!r})"
