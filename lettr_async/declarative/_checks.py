"""What ``apply`` checks after listing and before sending anything.

A saved plan is a review artifact, not an instruction: ``verify_saved`` plans
its file again against the live list and refuses the plan unless the result
is exactly the saved document. ``check_invariants`` then holds every plan,
saved or built in memory, to the rules a plan from a file always keeps:
deletions only with prune and inside the recorded ownership, updates only to
live endpoints the entry matches (by pinned id or by URL), creates and
updates only inside the ownership.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..models import Webhook
from ._diff import build_plan
from ._errors import ConfigError, PlanError
from ._lock import LockFile
from ._plan import Action, Change, LiveWebhook, Plan, canonical

__all__ = ["check_invariants", "verify_saved"]

_SHOWN = 10


def verify_saved(plan: Plan, live: Sequence[Webhook]) -> Plan:
    """The plan to run for a saved ``plan``: its file planned again, if identical.

    Raises ``ConfigError`` naming what differs when the saved document is not
    what planning the same file (same environment, lock file, ``prune`` and
    ``rotate``) against ``live`` gives now.
    """
    assert plan.saved is not None
    assert plan.desired is not None
    again = build_plan(
        plan.desired,
        live,
        lock=LockFile.load(plan.lock_path),
        prune=plan.prune,
        rotate=plan.rotate,
    )
    if canonical(again.to_dict()) != plan.saved:
        differences = _differences(json.loads(plan.saved), again.to_dict())
        raise ConfigError(
            f"the saved plan is not what {plan.source} plans now against the live webhooks "
            "(the plan was edited, or the file, its environment or the lock file changed); "
            "nothing was sent, make a new plan",
            {"plan": [f"differs at {', '.join(differences)}."]},
        )
    return again


def _differences(saved: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    """Where two plan documents differ: top-level keys, and changes by address.

    ``saved`` loaded as a plan, so it is an object with a list of changes.
    """
    found = []
    for key in sorted(saved.keys() | fresh.keys()):
        if canonical(saved.get(key)) == canonical(fresh.get(key)):
            continue
        found.append(key)
        if key == "resource_changes":
            old = {str(c.get("address")): c for c in saved[key]}
            new = {str(c["address"]): c for c in fresh[key]}
            found.extend(
                f"resource_changes[{address}]"
                for address in sorted(old.keys() | new.keys())
                if canonical(old.get(address)) != canonical(new.get(address))
            )
    shown = found[:_SHOWN]
    if len(found) > _SHOWN:
        shown.append(f"and {len(found) - _SHOWN} more")
    return shown


def check_invariants(plan: Plan, live: Sequence[LiveWebhook]) -> None:
    """Raise ``PlanError`` naming every change that breaks the rules of a file's plan."""
    by_id = {w.id: w for w in live}
    errors: dict[str, list[str]] = {}
    for change in plan.pending:
        problem = _problem(plan, change, by_id)
        if problem is not None:
            errors.setdefault(change.address, []).append(problem)
    if errors:
        raise PlanError("the plan breaks the rules of webhooks as code; nothing was sent", errors)


def _problem(plan: Plan, change: Change, by_id: dict[str, LiveWebhook]) -> str | None:
    target = None if change.webhook_id is None else by_id.get(change.webhook_id)
    if change.action is Action.DELETE:
        if target is None:
            return f"deletes {change.webhook_id}, which is not a live endpoint."
        if not plan.prune:
            return f"deletes {target.id}, but the plan was made without prune."
        if plan.ownership is None or not plan.ownership.owns(target.name, target.url):
            return f"deletes {target.id}, which is outside the file's [ownership]."
        return None
    hook = change.after
    if hook is None:
        return "has no desired endpoint."
    if plan.ownership is not None and not plan.ownership.owns(hook.name, hook.url):
        return f"is outside the file's [ownership] ({plan.ownership.describe()})."
    if change.action is Action.CREATE:
        return None if change.webhook_id is None else "a create cannot target an existing id."
    if target is None:
        return f"changes {change.webhook_id}, which is not a live endpoint."
    if hook.id is not None:
        return None if hook.id == target.id else f"changes {target.id}, but pins {hook.id}."
    if hook.url != target.url:
        return f"changes {target.id}, which the entry does not match (its URL differs)."
    return None
