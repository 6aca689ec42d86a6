"""Bounded-concurrency bulk runs where every input gets exactly one outcome.

A bulk run never loses an item: it succeeds, fails with its typed error, or
(after ``fail_fast`` tripped) fails with ``NotAttemptedError``. Workers run
in an anyio task group in the limiter's low-priority lane, so interactive
calls on the same client overtake them; cancelling the caller cancels the
group and with it every in-flight request.

Cancellation propagates as the plain ``CancelledError`` the canceller
expects, so what was done before it is kept in a ``BulkLedger`` the caller
owns: an exception carrying the partial result would be swallowed by the
very scope that cancelled (``anyio.move_on_after``, ``asyncio.timeout``, a
task group), so the caller could never read it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, Literal, TypeVar

import anyio
import anyio.lowlevel
import attrs

from ._validation import invalid
from .errors import LettrError, NotAttemptedError, ValidationError
from .hooks import capture_response
from .ratelimit._limiter import Lane, current_lane

__all__ = [
    "DEFAULT_BULK_CONCURRENCY",
    "BulkError",
    "BulkLedger",
    "BulkOutcome",
    "BulkResult",
    "OutcomeStatus",
    "OutcomeUnknownError",
    "ProgressCallback",
    "run_bulk",
]

V = TypeVar("V")

DEFAULT_BULK_CONCURRENCY = 16
"""Bulk items in flight at once unless ``concurrency`` says otherwise."""

logger = logging.getLogger("lettr_async")

ProgressCallback = Callable[[int, int], None]
"""``on_progress(done, total)``, called each time an item gets its outcome.

An exception raised by the callback is logged (logger ``lettr_async``, with
its traceback) and otherwise ignored: progress reporting never costs the
outcomes of work already done, nor stops the run.
"""

OutcomeStatus = Literal["succeeded", "failed", "not_sent", "unknown"]
"""Which of the four exclusive groups an outcome belongs to (``BulkOutcome.status``)."""


class OutcomeUnknownError(LettrError):
    """A bulk item whose request had been sent when the run was cancelled, unanswered.

    It may or may not have reached the server, and the server may or may
    not have applied it: look before repeating it (for ``create_many``,
    list the webhooks), or a re-run may make a twin.
    """


class BulkError(LettrError):
    """Raised by ``BulkResult.raise_for_errors()``; ``failed`` lists the failures.

    It lives beside the outcomes it carries, not in ``errors``, so the
    exception hierarchy stays below everything that raises it.
    """

    def __init__(self, failed: Sequence[BulkOutcome[object]], total: int) -> None:
        first = failed[0]
        super().__init__(
            f"{len(failed)} of {total} bulk items failed; first: {first.key!r}: {first.error}"
        )
        self.failed = list(failed)

    @property
    def exceptions(self) -> list[LettrError]:
        """The failed items' errors, in input order."""
        return [o.error for o in self.failed if o.error is not None]


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

    @property
    def status(self) -> OutcomeStatus:
        """``succeeded``, ``failed``, ``not_sent`` (never sent: safe to send again) or
        ``unknown`` (in flight when the run was cancelled)."""
        if self.error is None:
            return "succeeded"
        if isinstance(self.error, NotAttemptedError):
            return "not_sent"
        if isinstance(self.error, OutcomeUnknownError):
            return "unknown"
        return "failed"


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
        """The outcomes with an error (``not_sent`` and ``unknown`` ones included)."""
        return [o for o in self.outcomes if o.error is not None]

    @property
    def not_sent(self) -> list[BulkOutcome[V]]:
        """The items never sent (``fail_fast`` stopped or cancellation came first)."""
        return [o for o in self.outcomes if o.status == "not_sent"]

    @property
    def unknown(self) -> list[BulkOutcome[V]]:
        """The items in flight when the run was cancelled: the server may have applied them."""
        return [o for o in self.outcomes if o.status == "unknown"]

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


class BulkLedger(Generic[V]):
    """Records each outcome of one bulk run as it happens; readable however the run ended.

    Why: a cancelled run (``anyio.move_on_after``, ``asyncio.timeout``,
    ``task.cancel()``, a failing sibling in a task group) raises a plain
    ``CancelledError`` and returns nothing, yet some items were already
    applied. Pass a fresh ledger as ``ledger=`` and read ``result()``
    afterwards: one outcome per input, in input order, each ``succeeded``,
    ``failed``, ``not_sent`` or ``unknown`` (see ``BulkOutcome.status``).
    Read during the run (from ``on_progress``), it is a snapshot: ``unknown``
    then means "in flight" and ``not_sent`` "not sent yet"; it is final once
    ``finished``. One ledger records one run.
    """

    __slots__ = ("_keys", "_maybe_sent", "_outcomes", "_over")

    def __init__(self) -> None:
        """Start empty; a bulk call fills it."""
        self._keys: list[str | int] | None = None
        self._outcomes: list[BulkOutcome[V] | None] = []
        self._maybe_sent: list[bool] = []
        self._over = threading.Event()

    @property
    def finished(self) -> bool:
        """True once the run is over (returned, failed or cancelled): ``result()`` is final."""
        return self._over.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block this thread until the run is over; False if ``timeout`` seconds passed first.

        For the sync facade: after Ctrl-C the run is cancelled in the
        client's loop thread, which may still record a few outcomes (and
        could otherwise still take an item a snapshot called ``not_sent``).
        Async code never needs it, since a bulk call that returned or raised
        has finished its run; never call it on an event loop.
        """
        return self._over.wait(timeout)

    def __repr__(self) -> str:
        if self._keys is None:
            return "BulkLedger(unused)"
        done = sum(o is not None for o in self._outcomes)
        return f"BulkLedger({done} of {len(self._keys)} items have an outcome)"

    def result(self) -> BulkResult[V]:
        """Every input's outcome so far, in input order (empty before the run starts)."""
        outcomes: list[BulkOutcome[V]] = []
        for key, outcome, maybe in zip(
            self._keys or [], self._outcomes, self._maybe_sent, strict=True
        ):
            if outcome is None:
                error: LettrError = (
                    OutcomeUnknownError(
                        f"outcome unknown: {key!r} was in flight when the bulk run was "
                        "cancelled; the server may have applied it"
                    )
                    if maybe
                    else NotAttemptedError(
                        f"not sent: the bulk run was cancelled (or is still running) "
                        f"before {key!r} was sent"
                    )
                )
                outcome = BulkOutcome(key, error=error)
            outcomes.append(outcome)
        return BulkResult(outcomes)


async def run_bulk(
    items: Sequence[tuple[str | int, Callable[[], Awaitable[V]]]],
    concurrency: int,
    fail_fast: bool,
    on_progress: ProgressCallback | None,
    ledger: BulkLedger[V] | None = None,
) -> BulkResult[V]:
    """Run each ``(key, call)``, at most ``concurrency`` at once, recording into ``ledger``."""
    book: BulkLedger[V] = _claim(BulkLedger() if ledger is None else ledger, items)
    outcomes = book._outcomes
    maybe_sent = book._maybe_sent
    total = len(items)
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

    async def sent_or_not(index: int, call: Callable[[], Awaitable[V]]) -> V:
        """Await ``call``; if it is interrupted before any request went out, it was not sent.

        The pipeline reports the requests it handed to the transport through
        ``capture_response`` even when cancelled, so an item still waiting
        for the rate limiter is ``not_sent`` rather than ``unknown``.
        """
        with capture_response() as captured:
            try:
                return await call()
            except BaseException:
                if not any(end.attempts for end in captured.calls):
                    maybe_sent[index] = False
                raise

    async def worker() -> None:
        nonlocal next_index, stopped
        current_lane.set(Lane.BULK)
        while next_index < total:
            # A cancel requested since the last item (e.g. from on_progress)
            # lands here, before the next item is taken: that one stays "not sent".
            await anyio.lowlevel.checkpoint_if_cancelled()
            if next_index >= total:
                break
            index = next_index
            next_index += 1
            key, call = items[index]
            if stopped:
                error = NotAttemptedError(
                    "not attempted: an earlier item failed and fail_fast=True stopped "
                    f"the run ({key!r})"
                )
                finish(index, BulkOutcome(key, error=error))
                continue
            maybe_sent[index] = True
            try:
                value = await (call() if ledger is None else sent_or_not(index, call))
            except LettrError as exc:
                finish(index, BulkOutcome(key, error=exc))
                stopped = stopped or fail_fast
            else:
                finish(index, BulkOutcome(key, value=value))

    try:
        async with anyio.create_task_group() as group:
            for _ in range(min(concurrency, total)):
                group.start_soon(worker)
    finally:
        book._over.set()
    return book.result()


def _claim(ledger: object, items: Sequence[tuple[str | int, object]]) -> BulkLedger[Any]:
    """Make ``ledger`` record this run; a wrong or used one fails before anything is sent.

    Typed ``object``: callers without a type checker pass anything.
    """
    if not isinstance(ledger, BulkLedger):
        raise _bad_ledger(f"must be a BulkLedger, not {type(ledger).__name__}.")
    if ledger._keys is not None:
        raise _bad_ledger("already records another bulk run: pass a new BulkLedger().")
    ledger._keys = [key for key, _ in items]
    ledger._outcomes = [None] * len(items)
    ledger._maybe_sent = [False] * len(items)
    return ledger


def _bad_ledger(problem: str) -> ValidationError:
    return invalid("ledger", problem, "ledger for a bulk call; nothing was sent")
