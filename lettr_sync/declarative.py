"""Webhooks as code for the sync client: ``plan(client, desired)`` and ``apply(client, plan)``.

The same flows as ``lettr_async.declarative`` (``_flow``), driven here in the
calling thread: reading and writing the lock file, the diff and the checks
run in your thread, and only the HTTP steps go to the client's event loop.
Everything else of webhooks as code (``load_config``, ``Plan``,
``export_toml``...) has no I/O of the client and is used from
``lettr_async.declarative`` as is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from lettr_async._sentinel import NOT_GIVEN, NotGiven
from lettr_async.bulk import DEFAULT_BULK_CONCURRENCY, ProgressCallback
from lettr_async.declarative import ApplyResult, DesiredState, Plan
from lettr_async.declarative._apply import apply_flow
from lettr_async.declarative._entry import plan_flow
from lettr_async.declarative._flow import Flow

from ._client import Lettr

__all__ = ["apply", "plan"]

T = TypeVar("T")


def plan(
    client: Lettr,
    desired: DesiredState,
    /,
    *,
    prune: bool = False,
    rotate: bool | Iterable[str] = False,
    timeout: float | NotGiven | None = NOT_GIVEN,
    max_retries: int | NotGiven = NOT_GIVEN,
) -> Plan:
    """Diff a webhooks file (``load_config``) against the client's live list.

    As ``lettr_async.declarative.plan``: one ``list``, nothing else sent.
    """
    flow = plan_flow(desired, prune=prune, rotate=rotate, timeout=timeout, max_retries=max_retries)
    return _drive(flow, client)


def apply(
    client: Lettr,
    plan: Plan,
    /,
    *,
    concurrency: int = DEFAULT_BULK_CONCURRENCY,
    on_progress: ProgressCallback | None = None,
    timeout: float | NotGiven | None = NOT_GIVEN,
    max_retries: int | NotGiven = NOT_GIVEN,
) -> ApplyResult:
    """Apply a plan; as ``lettr_async.declarative.apply``, the lock file written in this thread.

    ``on_progress`` is called in the client's loop thread, as for the sync
    ``*_many`` methods.
    """
    flow = apply_flow(
        plan,
        concurrency=concurrency,
        on_progress=on_progress,
        timeout=timeout,
        max_retries=max_retries,
    )
    return _drive(flow, client)


def _drive(flow: Flow[T], client: Lettr) -> T:
    """``lettr_async.declarative._flow.drive`` for a sync client: steps through its portal."""
    try:
        step = next(flow)
        while True:
            try:
                result = client._run(step)
            except BaseException as exc:  # the flow's ``finally`` (the lock write) runs
                step = flow.throw(exc)
            else:
                step = flow.send(result)
    except StopIteration as stop:
        value: T = stop.value
        return value
