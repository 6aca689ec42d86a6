"""Applying a plan: one ``list`` for the staleness check, then one request per change.

Deletions go first (they may free URLs), then updates, then creates, each
phase through the SDK's bulk engine, so the client's rate limiter paces
everything and every change gets exactly one outcome. Only the public
``client.webhooks`` methods are used (``_api.WebhooksApi``).

Convergence: a create answered ``409 resource_already_exists`` means an
earlier attempt reached the server but its answer was lost; the endpoint is
adopted (found by URL in one more ``list``) and updated to match. A delete
answered 404 is already done. Re-running an interrupted apply therefore
finishes the job without duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import attrs

from .._sentinel import NotGiven
from ..bulk import BulkOutcome, ProgressCallback
from ..errors import (
    ConflictError,
    LettrError,
    NotAttemptedError,
    NotFoundError,
    ValidationError,
)
from ..models import Webhook
from ..types import AuthType
from ._checks import check_invariants, verify_saved
from ._config import DesiredWebhook
from ._errors import StalePlanError
from ._flow import Flow
from ._lock import LockFile, fingerprint_credentials
from ._plan import Action, Change, LiveWebhook, Plan, describe_drift, live_fingerprint

if TYPE_CHECKING:
    from ..types import WebhookCreateFields, WebhookUpdateFields
    from ._api import WebhooksApi

__all__ = ["ApplyResult", "ChangeOutcome", "apply_flow"]

_ALREADY_EXISTS = "resource_already_exists"


@attrs.frozen
class ChangeOutcome:
    """The outcome of one planned change.

    ``error`` is None on success; ``webhook`` is the endpoint as the server
    returned it (None for deletes); ``adopted`` is True when a create found
    its endpoint already there (a lost answer of an earlier attempt) and
    updated it instead.
    """

    change: Change
    error: LettrError | None = None
    webhook: Webhook | None = None
    adopted: bool = False

    @property
    def ok(self) -> bool:
        """True when the change was applied."""
        return self.error is None


@attrs.frozen
class ApplyResult:
    """One outcome per pending change of the plan, in plan order."""

    outcomes: tuple[ChangeOutcome, ...]

    @property
    def ok(self) -> bool:
        """True when every change was applied."""
        return all(o.ok for o in self.outcomes)

    @property
    def failed(self) -> list[ChangeOutcome]:
        """The changes that were not applied."""
        return [o for o in self.outcomes if not o.ok]

    def document(self) -> dict[str, Any]:
        """JSON-ready summary: one item per change (error text holds no secrets)."""
        return {
            "ok": self.ok,
            "applied": sum(1 for o in self.outcomes if o.ok),
            "failed": len(self.failed),
            "outcomes": [
                {
                    "address": o.change.address,
                    "actions": o.change.action.terraform_actions,
                    "id": o.webhook.id if o.webhook is not None else o.change.webhook_id,
                    "ok": o.ok,
                    "adopted": o.adopted,
                    "error": None if o.error is None else str(o.error),
                }
                for o in self.outcomes
            ],
        }


def apply_flow(
    plan: Plan,
    *,
    concurrency: int,
    on_progress: ProgressCallback | None,
    timeout: float | NotGiven | None,
    max_retries: int | NotGiven,
) -> Flow[ApplyResult]:
    """Refuse a stale, altered or rule-breaking plan, then apply its changes.

    A saved plan (``Plan.from_dict``) is planned again from its file and
    refused (``ConfigError``) unless identical; every plan must then pass
    ``check_invariants`` (``PlanError``). Either way nothing is sent but the
    one ``list``. See the module docstring for the order of the changes.
    Two HTTP steps (the ``list``, then the changes); the checks and the lock
    file's read and write run between them, in the driver's thread.
    """
    options = _Options(timeout, max_retries)
    live: list[Webhook] = yield lambda client: client.webhooks.list(
        timeout=timeout, max_retries=max_retries
    )
    current = tuple(LiveWebhook.from_webhook(w) for w in live)
    if live_fingerprint(current) != plan.live_fingerprint:
        raise StalePlanError(describe_drift(plan.live, current))
    if plan.saved is not None:
        plan = verify_saved(plan, live)
    check_invariants(plan, current)
    pending = plan.pending
    lock = LockFile.load(plan.lock_path)
    progress = _Progress(on_progress, len(pending))
    try:
        result: ApplyResult = yield lambda client: _Run(
            client.webhooks, lock, concurrency, options, progress
        ).execute(pending)
    finally:
        lock.save()
    return result


@attrs.frozen
class _Options:
    timeout: float | NotGiven | None
    max_retries: int | NotGiven


class _Progress:
    def __init__(self, callback: ProgressCallback | None, total: int) -> None:
        self.callback = callback
        self.total = total
        self.done = 0

    def step(self) -> None:
        self.done += 1
        if self.callback is not None:
            self.callback(self.done, self.total)


class _Run:
    """The state of one apply: outcomes so far and the lock to update."""

    def __init__(
        self,
        webhooks: WebhooksApi,
        lock: LockFile,
        concurrency: int,
        options: _Options,
        progress: _Progress,
    ) -> None:
        self.webhooks = webhooks
        self.lock = lock
        self.concurrency = concurrency
        self.options = options
        self.progress = progress
        self.outcomes: dict[int, ChangeOutcome] = {}

    def finish(self, outcome: ChangeOutcome) -> None:
        self.outcomes[id(outcome.change)] = outcome
        change = outcome.change
        if outcome.ok:
            self.remember(change, outcome.webhook)
        self.progress.step()

    def remember(self, change: Change, webhook: Webhook | None) -> None:
        """Keep the lock in step with what the server now holds."""
        if change.webhook_id is not None and change.action in (Action.DELETE, Action.REPLACE):
            self.lock.entries.pop(change.webhook_id, None)
        hook = change.after
        if webhook is None or hook is None:
            return
        if hook.auth_type is AuthType.NONE:
            self.lock.entries.pop(webhook.id, None)
        elif change.send_credentials or change.action in (Action.CREATE, Action.REPLACE):
            self.lock.entries[webhook.id] = fingerprint_credentials(
                hook.auth_type.value, hook.credentials
            )

    async def execute(self, pending: Sequence[Change]) -> ApplyResult:
        """Deletes, then updates, then creates; one outcome per change, in plan order."""
        deletes = [c for c in pending if c.action in (Action.DELETE, Action.REPLACE)]
        updates = [c for c in pending if c.action is Action.UPDATE]
        creates = [c for c in pending if c.action is Action.CREATE]
        replaced: list[Change] = []
        for change, outcome in await self.delete(deletes):
            if change.action is Action.REPLACE:
                if outcome.ok:
                    replaced.append(change)
                else:
                    self.finish(ChangeOutcome(change, outcome.error))
            else:
                self.finish(ChangeOutcome(change, outcome.error))
        await self.update([(c, c.webhook_id or "", _update_fields(c)) for c in updates], False)
        await self.create([*replaced, *creates])
        return ApplyResult(tuple(self.outcomes[id(c)] for c in pending))

    async def delete(self, changes: Sequence[Change]) -> list[tuple[Change, BulkOutcome[None]]]:
        if not changes:
            return []
        try:
            result = await self.webhooks.delete_many(
                [c.webhook_id or "" for c in changes],
                concurrency=self.concurrency,
                timeout=self.options.timeout,
                max_retries=self.options.max_retries,
            )
        except ValidationError as exc:
            return [(c, BulkOutcome(c.webhook_id or "", error=exc)) for c in changes]
        pairs = []
        for change, outcome in zip(changes, result.outcomes, strict=True):
            if isinstance(outcome.error, NotFoundError):
                outcome = BulkOutcome(outcome.key)  # already gone: the goal is met
            pairs.append((change, outcome))
        return pairs

    async def update(
        self, items: Sequence[tuple[Change, str, dict[str, Any]]], adopted: bool
    ) -> None:
        if not items:
            return
        try:
            result = await self.webhooks.update_many(
                [
                    (webhook_id, cast("WebhookUpdateFields", fields))
                    for _, webhook_id, fields in items
                ],
                concurrency=self.concurrency,
                timeout=self.options.timeout,
                max_retries=self.options.max_retries,
            )
        except ValidationError as exc:  # rejected locally: nothing of this phase was sent
            for change, _, _ in items:
                self.finish(ChangeOutcome(change, exc))
            return
        for (change, _, _), outcome in zip(items, result.outcomes, strict=True):
            self.finish(ChangeOutcome(change, outcome.error, outcome.value, adopted))

    async def create(self, changes: Sequence[Change]) -> None:
        if not changes:
            return
        hooks = [c.after for c in changes]
        assert all(h is not None for h in hooks)
        try:
            result = await self.webhooks.create_many(
                [cast("WebhookCreateFields", _create_fields(h)) for h in hooks if h is not None],
                concurrency=self.concurrency,
                timeout=self.options.timeout,
                max_retries=self.options.max_retries,
            )
        except ValidationError as exc:  # rejected locally: nothing of this phase was sent
            for change in changes:
                self.finish(ChangeOutcome(change, exc))
            return
        conflicts: list[Change] = []
        disabled: list[tuple[Change, str, dict[str, Any]]] = []
        for change, outcome in zip(changes, result.outcomes, strict=True):
            error = outcome.error
            if isinstance(error, ConflictError) and error.error_code == _ALREADY_EXISTS:
                conflicts.append(change)
            elif error is None and outcome.value is not None and not _hook(change).enabled:
                # Create has no "active" field: disabling a new endpoint takes one update.
                disabled.append((change, outcome.value.id, {"active": False}))
            else:
                self.finish(ChangeOutcome(change, error, outcome.value))
        await self.update(disabled, False)
        await self.adopt(conflicts)

    async def adopt(self, changes: Sequence[Change]) -> None:
        """A 409 on create: find the endpoint by URL and make it match (one list)."""
        if not changes:
            return
        try:
            live = await self.webhooks.list(
                timeout=self.options.timeout, max_retries=self.options.max_retries
            )
        except LettrError as exc:
            for change in changes:
                self.finish(ChangeOutcome(change, exc))
            return
        by_url = {w.url: w for w in live}
        items = []
        for change in changes:
            found = by_url.get(change.url)
            if found is None:
                self.finish(ChangeOutcome(change, _not_adoptable(change)))
            else:
                items.append((change, found.id, _full_fields(_hook(change))))
        await self.update(items, True)


def _hook(change: Change) -> DesiredWebhook:
    assert change.after is not None
    return change.after


def _credentials(hook: DesiredWebhook) -> dict[str, str]:
    return {c.field: c.value for c in hook.credentials}


def _create_fields(hook: DesiredWebhook) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": hook.name,
        "url": hook.url,
        "auth_type": hook.auth_type.value,
        "events_mode": "all" if hook.events is None else "selected",
        **_credentials(hook),
    }
    if hook.events is not None:
        fields["events"] = list(hook.events)
    return fields


_UPDATE_NAMES: Mapping[str, Callable[[DesiredWebhook], tuple[str, Any]]] = {
    "name": lambda h: ("name", h.name),
    "url": lambda h: ("url", h.url),
    "enabled": lambda h: ("active", h.enabled),
    "events": lambda h: ("events", list(h.events or ())),
    "auth_type": lambda h: ("auth_type", h.auth_type.value),
}


def _update_fields(change: Change) -> dict[str, Any]:
    """Only the changed fields, plus the credentials when the plan says to send them."""
    hook = _hook(change)
    fields = dict(_UPDATE_NAMES[f.field](hook) for f in change.fields if f.field in _UPDATE_NAMES)
    if change.send_credentials:
        fields["auth_type"] = hook.auth_type.value
        fields.update(_credentials(hook))
    return fields


def _full_fields(hook: DesiredWebhook) -> dict[str, Any]:
    """Every field of an adopted endpoint, credentials included (its state is unknown)."""
    fields: dict[str, Any] = {
        "name": hook.name,
        "url": hook.url,
        "active": hook.enabled,
        "auth_type": hook.auth_type.value,
        **_credentials(hook),
    }
    if hook.events is not None:
        fields["events"] = list(hook.events)
    return fields


def _not_adoptable(change: Change) -> LettrError:
    return NotAttemptedError(
        f"{change.address}: create answered 409 resource_already_exists, but no endpoint "
        "with that URL is listed; plan again"
    )
