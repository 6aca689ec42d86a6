"""Diffing: the desired state against the live list, into a ``Plan``.

Matching rules, in order, for each entry of the file:

1. an entry that pins ``id`` matches the live endpoint with that id
   (``matched_by="id"``); a pinned id that does not exist is an error;
2. otherwise the entry matches the live endpoint with exactly the same URL
   (``matched_by="url"``): Lettr refuses two endpoints with one URL, so the
   URL identifies an endpoint within a team;
3. otherwise the entry is created (``matched_by="new"``).

Live endpoints no entry matched are left alone, unless ``prune`` is on and
the file's ``[ownership]`` scope covers them (``matched_by="ownership"``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from ..models import Webhook
from ..types import AuthType
from ._config import DesiredState, DesiredWebhook
from ._errors import PlanError
from ._lock import LockFile
from ._plan import (
    WRITE_ONLY_SENT,
    WRITE_ONLY_UNCHANGED,
    Action,
    Change,
    FieldChange,
    LiveWebhook,
    Plan,
)

__all__ = ["build_plan"]

_ORDER = {Action.DELETE: 0, Action.REPLACE: 1, Action.UPDATE: 2, Action.CREATE: 3, Action.NOOP: 4}


def build_plan(
    desired: DesiredState,
    live: Sequence[Webhook],
    *,
    lock: LockFile,
    prune: bool = False,
    rotate: bool | Collection[str] = False,
) -> Plan:
    """Compare ``desired`` with the ``live`` list and return the plan; sends nothing.

    ``rotate`` is True (send every credential) or names/URLs of the entries
    whose credentials to send again. Raises ``PlanError`` when the desired
    state cannot be reached (all problems at once).
    """
    snapshots = tuple(LiveWebhook.from_webhook(w) for w in live)
    by_id = {w.id: w for w in snapshots}
    by_url = {w.url: w for w in snapshots}
    errors: dict[str, list[str]] = {}
    if prune and desired.ownership is None:
        errors[desired.source] = [
            "prune needs an [ownership] table (name_prefix and/or url_prefix) "
            "saying which endpoints this file owns."
        ]
    changes: list[Change] = []
    matched: dict[str, str] = {}
    for hook in desired.webhooks:
        current, rule = _match(hook, by_id, by_url)
        if hook.id is not None and current is None:
            errors.setdefault(f"{hook.address}.id", []).append(
                f"no webhook with id {hook.id!r} exists; remove the id to create the endpoint."
            )
            continue
        if current is not None:
            if current.id in matched:
                errors.setdefault(hook.address, []).append(
                    f"matches {current.id}, which {matched[current.id]} already matches."
                )
                continue
            matched[current.id] = hook.address
        change = _change_for(hook, current, rule, lock, _rotates(rotate, hook))
        if change.action is Action.REPLACE and hook.id is not None:
            errors.setdefault(f"{hook.address}.events", []).append(
                'cannot become "all" in place (Lettr\'s update has no events_mode) and the '
                "entry pins its id, which a replacement would change; list the events, or "
                "remove the id to let the endpoint be replaced."
            )
        changes.append(change)
    if prune and desired.ownership is not None:
        for webhook in snapshots:
            if webhook.id not in matched and desired.ownership.owns(webhook.name, webhook.url):
                changes.append(
                    Change(
                        Action.DELETE,
                        f'live["{webhook.id}"]',
                        "ownership",
                        webhook.id,
                        webhook,
                        None,
                    )
                )
    _check_url_conflicts(changes, snapshots, errors)
    if errors:
        raise PlanError("the file cannot be applied to the live webhooks; nothing was sent", errors)
    changes.sort(key=lambda c: _ORDER[c.action])
    return Plan(
        changes=tuple(changes),
        live=snapshots,
        source=desired.source,
        lock_path=desired.lock_path,
        prune=prune,
        ownership=desired.ownership,
        rotate=rotate if isinstance(rotate, bool) else tuple(sorted(rotate)),
    )


def _match(
    hook: DesiredWebhook, by_id: dict[str, LiveWebhook], by_url: dict[str, LiveWebhook]
) -> tuple[LiveWebhook | None, str]:
    if hook.id is not None:
        return by_id.get(hook.id), "id"
    current = by_url.get(hook.url)
    return current, "url" if current is not None else "new"


def _rotates(rotate: bool | Collection[str], hook: DesiredWebhook) -> bool:
    if isinstance(rotate, bool):
        return rotate
    return hook.name in rotate or hook.url in rotate


def _events_text(events: tuple[str, ...] | None) -> Any:
    return "all" if events is None else list(events)


def _change_for(
    hook: DesiredWebhook,
    current: LiveWebhook | None,
    rule: str,
    lock: LockFile,
    rotate: bool,
) -> Change:
    needs_credentials = hook.auth_type is not AuthType.NONE
    if current is None:
        return Change(
            Action.CREATE, hook.address, rule, None, None, hook,
            send_credentials=needs_credentials,
            credentials_reason="new endpoint" if needs_credentials else None,
        )  # fmt: skip
    fields: list[FieldChange] = []
    for name, before, after in (
        ("name", current.name, hook.name),
        ("url", current.url, hook.url),
        ("enabled", current.enabled, hook.enabled),
        ("events", _events_text(current.event_types), _events_text(hook.events)),
        ("auth_type", current.auth_type, hook.auth_type.value),
    ):
        if before != after:
            fields.append(FieldChange(name, before, after))
    send, reason = _credential_decision(hook, current, lock, rotate)
    if send:
        for credential in hook.credentials:
            fields.append(FieldChange(credential.field, WRITE_ONLY_UNCHANGED, WRITE_ONLY_SENT))
    if current.event_types is not None and hook.events is None:
        # The update request has no events_mode: "all" can only be had by a new endpoint.
        return Change(
            Action.REPLACE, hook.address, rule, current.id, current, hook, tuple(fields),
            send_credentials=needs_credentials,
            credentials_reason="replaced endpoint (events list -> all)" if needs_credentials
            else None,
        )  # fmt: skip
    action = Action.UPDATE if fields else Action.NOOP
    return Change(
        action, hook.address, rule, current.id, current, hook, tuple(fields), send, reason
    )


def _credential_decision(
    hook: DesiredWebhook, current: LiveWebhook, lock: LockFile, rotate: bool
) -> tuple[bool, str | None]:
    if hook.auth_type is AuthType.NONE:
        return False, None
    if current.auth_type != hook.auth_type.value:
        return True, "auth type changes"
    if not current.has_auth_credentials:
        return True, "the endpoint has no stored credentials"
    if rotate:
        return True, "rotation requested"
    entry = lock.entries.get(current.id)
    if entry is None:
        return True, "no fingerprint in the lock file (first apply of this endpoint)"
    if not entry.matches(hook.auth_type.value, hook.credentials):
        return True, "credentials changed since the last apply"
    return False, None


def _check_url_conflicts(
    changes: list[Change], live: Sequence[LiveWebhook], errors: dict[str, list[str]]
) -> None:
    """An endpoint may only take a URL that no endpoint keeps after the deletions."""
    released = {c.webhook_id for c in changes if c.action in (Action.DELETE, Action.REPLACE)}
    keeps: dict[str, str] = {}
    for change in changes:
        if change.action is Action.DELETE or change.webhook_id is None:
            continue
        keeps[change.webhook_id] = change.url
    final_url = {w.id: keeps.get(w.id, w.url) for w in live if w.id not in released}
    for change in changes:
        if change.after is None:
            continue
        for webhook_id, url in final_url.items():
            if url == change.url and webhook_id != change.webhook_id:
                if change.action is Action.REPLACE and webhook_id == change.webhook_id:
                    continue
                errors.setdefault(f"{change.address}.url", []).append(
                    f"is used by {webhook_id}, which keeps it; "
                    "delete that endpoint (or change its URL) first."
                )
