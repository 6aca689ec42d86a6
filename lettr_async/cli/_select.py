"""Choosing the webhooks a bulk command acts on, and previewing what it would do.

Selection is made on the ``list()`` result: explicit ids, plus every webhook
whose URL matches ``--match-url`` and whose name matches ``--match-name``
(shell-style globs, case-sensitive, via ``fnmatch.fnmatchcase``). When both
patterns are given a webhook must match both.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

import attrs

from ..models import SECRET_FIELDS, Webhook, mask_url_credentials

__all__ = ["Selection", "delete_preview", "select", "update_preview"]

"""Update fields whose values are never shown, only marked as changed."""

_MASK = "***"


@attrs.frozen
class Selection:
    """The selected webhooks (in list order) and the requested ids that do not exist."""

    webhooks: list[Webhook]
    missing: list[str]


def select(
    webhooks: Sequence[Webhook],
    ids: Sequence[str] = (),
    match_url: str | None = None,
    match_name: str | None = None,
) -> Selection:
    """Pick webhooks by id or by glob; each webhook is selected at most once."""
    wanted = set(ids)
    has_pattern = match_url is not None or match_name is not None

    def matches(webhook: Webhook) -> bool:
        if webhook.id in wanted:
            return True
        if not has_pattern:
            return False
        url_ok = match_url is None or fnmatchcase(webhook.url, match_url)
        name_ok = match_name is None or fnmatchcase(webhook.name, match_name)
        return url_ok and name_ok

    chosen = [w for w in webhooks if matches(w)]
    known = {w.id for w in webhooks}
    missing = [i for i in dict.fromkeys(ids) if i not in known]
    return Selection(chosen, missing)


def _current(webhook: Webhook, field: str) -> Any:
    if field == "active":
        return webhook.enabled
    if field == "events":
        return webhook.event_types
    value = getattr(webhook, field, None)
    return value.value if isinstance(value, enum.Enum) else value


def update_preview(webhooks: Sequence[Webhook], fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What ``update_many`` with ``fields`` would change on each webhook.

    Secret values are shown as ``***``; credential fields the API never
    returns have ``from: null``; credentials embedded in URLs are masked.
    Fields already at the requested value are left out of ``changes``.
    """
    preview = []
    for webhook in webhooks:
        changes: dict[str, dict[str, Any]] = {}
        for field, value in fields.items():
            before = None if field in SECRET_FIELDS else _current(webhook, field)
            after = _MASK if field in SECRET_FIELDS else value
            if field not in SECRET_FIELDS and before == after:
                continue
            if field == "url":
                before, after = mask_url_credentials(str(before)), mask_url_credentials(str(after))
            changes[field] = {"from": before, "to": after}
        preview.append(
            {
                "action": "update",
                "id": webhook.id,
                "name": webhook.name,
                "url": mask_url_credentials(webhook.url),
                "changes": changes,
            }
        )
    return preview


def delete_preview(webhooks: Sequence[Webhook]) -> list[dict[str, Any]]:
    """What ``delete_many`` would remove."""
    return [
        {"action": "delete", "id": w.id, "name": w.name, "url": mask_url_credentials(w.url)}
        for w in webhooks
    ]
