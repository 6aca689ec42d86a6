"""Webhooks as code for the sync client: ``plan(client, desired)`` and ``apply(client, plan)``.

The flows of ``lettr_async.declarative`` run in the calling thread: the lock
file, the diff and the checks in yours, only the HTTP steps on the client's
loop. The rest (``load_config``, ``Plan``...) is used from there as is.
"""

from __future__ import annotations

from collections.abc import Iterable

from lettr_async._sentinel import NOT_GIVEN, NotGiven
from lettr_async.bulk import DEFAULT_BULK_CONCURRENCY, ProgressCallback
from lettr_async.declarative import ApplyResult, DesiredState, Plan
from lettr_async.declarative._apply import apply_flow
from lettr_async.declarative._entry import plan_flow
from lettr_async.declarative._flow import run

from ._client import Lettr

__all__ = ["apply", "plan"]


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
    return run(flow, client._run)


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
    return run(flow, client._run)
