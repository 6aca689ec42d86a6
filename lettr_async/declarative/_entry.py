"""``plan(client, desired)`` and ``apply(client, plan)``: webhooks as code from Python.

The entry points take the client as an argument, so declarative sits above
it: TOML, lock files and diffs never become part of the client. Each is a
flow (``_flow``) driven on the running loop; ``lettr_sync.declarative``
drives the same flows for the sync client.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._sentinel import NOT_GIVEN, NotGiven
from ..bulk import DEFAULT_BULK_CONCURRENCY, ProgressCallback
from ..models import Webhook
from ._api import HasWebhooks
from ._apply import ApplyResult, apply_flow
from ._config import DesiredState
from ._diff import build_plan
from ._flow import Flow, drive
from ._lock import LockFile
from ._plan import Plan

__all__ = ["apply", "plan", "plan_flow"]


async def plan(
    client: HasWebhooks,
    desired: DesiredState,
    /,
    *,
    prune: bool = False,
    rotate: bool | Iterable[str] = False,
    timeout: float | NotGiven | None = NOT_GIVEN,
    max_retries: int | NotGiven = NOT_GIVEN,
) -> Plan:
    """Diff a webhooks file (``load_config``) against the client's live list.

    Sends one ``list`` and nothing else. ``prune=True`` also plans deleting
    the live endpoints inside the file's ``[ownership]`` scope that it no
    longer lists; ``rotate`` (True, or entry names/URLs) sends credentials
    again even when their fingerprint is unchanged.
    """
    flow = plan_flow(desired, prune=prune, rotate=rotate, timeout=timeout, max_retries=max_retries)
    return await drive(flow, client)


def plan_flow(
    desired: DesiredState,
    *,
    prune: bool,
    rotate: bool | Iterable[str],
    timeout: float | NotGiven | None,
    max_retries: int | NotGiven,
) -> Flow[Plan]:
    """``plan`` as a flow: one ``list``, then the lock file's read and the diff."""
    rotating = rotate if isinstance(rotate, bool) else frozenset(rotate)
    live: list[Webhook] = yield lambda client: client.webhooks.list(
        timeout=timeout, max_retries=max_retries
    )
    lock = LockFile.load(desired.lock_path)
    return build_plan(desired, live, lock=lock, prune=prune, rotate=rotating)


async def apply(
    client: HasWebhooks,
    plan: Plan,
    /,
    *,
    concurrency: int = DEFAULT_BULK_CONCURRENCY,
    on_progress: ProgressCallback | None = None,
    timeout: float | NotGiven | None = NOT_GIVEN,
    max_retries: int | NotGiven = NOT_GIVEN,
) -> ApplyResult:
    """Apply a plan through the client's bulk engine and rate limiter.

    One ``list`` first: a plan made before the live endpoints changed raises
    ``StalePlanError`` with nothing sent. Returns one outcome per change and
    records salted credential fingerprints (never credentials) in the lock file.
    """
    flow = apply_flow(
        plan,
        concurrency=concurrency,
        on_progress=on_progress,
        timeout=timeout,
        max_retries=max_retries,
    )
    return await drive(flow, client)
