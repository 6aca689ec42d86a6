"""The plan: a typed, frozen list of changes, with a fingerprint of the live state.

A plan serialises to JSON following the shape of Terraform's plan output
(``format_version``, ``resource_changes[].change.actions/before/after``), so
CI pipelines can parse it the same way, and loads back to be applied as is.
Credentials never appear in it: write-only fields show as
``(write-only, unchanged)`` or ``(write-only, will be sent)``, a saved
plan holds only the names of the environment variables to read them from,
and credentials embedded in URLs (``https://user:pass@host``) are masked.

A saved plan is a review artifact, never trusted: ``Plan.from_dict`` refuses
one whose lock file is not beside its config file or that reads environment
variables the file does not declare, and keeps the document so that ``apply``
can plan the file again and refuse any difference (see ``_checks``).
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .._version import __version__
from ..models import Webhook, mask_url_credentials
from ..types import AuthType
from ._config import (
    SECRET_FIELDS,
    CredentialValue,
    DesiredState,
    DesiredWebhook,
    Ownership,
    default_lock_path,
    load_config,
)
from ._errors import ConfigError

__all__ = [
    "PLAN_FORMAT_VERSION",
    "WRITE_ONLY_SENT",
    "WRITE_ONLY_UNCHANGED",
    "Action",
    "Change",
    "FieldChange",
    "LiveWebhook",
    "Plan",
    "canonical",
    "describe_drift",
    "live_fingerprint",
]

PLAN_FORMAT_VERSION = "1.0"
"""``format_version`` of the plan JSON; the major part changes on breaking edits."""
WRITE_ONLY_UNCHANGED = "(write-only, unchanged)"
"""How plans show a credential that will not be sent."""
WRITE_ONLY_SENT = "(write-only, will be sent)"
"""How plans show a credential that will be sent."""


class Action(str, enum.Enum):
    """What a change does; ``REPLACE`` deletes then creates (the id changes)."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"
    NOOP = "no-op"

    @property
    def terraform_actions(self) -> list[str]:
        """Terraform's ``change.actions`` list for this action."""
        return ["delete", "create"] if self is Action.REPLACE else [self.value]


@attrs.frozen
class LiveWebhook:
    """The configuration part of a live endpoint (no delivery timestamps).

    This is what a plan's fingerprint covers: deliveries changing
    ``last_status`` do not make a plan stale, edits to the endpoint do.
    """

    id: str
    name: str
    url: str
    enabled: bool
    auth_type: str
    has_auth_credentials: bool
    event_types: tuple[str, ...] | None

    @classmethod
    def from_webhook(cls, webhook: Webhook) -> LiveWebhook:
        """Keep the configuration fields of ``webhook``; event types sorted."""
        events = None if webhook.event_types is None else tuple(sorted(set(webhook.event_types)))
        return cls(
            id=webhook.id,
            name=webhook.name,
            url=webhook.url,
            enabled=webhook.enabled,
            auth_type=str(webhook.auth_type.value),
            has_auth_credentials=webhook.has_auth_credentials,
            event_types=events,
        )

    def document(self) -> dict[str, Any]:
        """JSON-ready fields (``events`` is ``"all"`` or a list; URL credentials masked)."""
        return {
            "id": self.id,
            "name": self.name,
            "url": mask_url_credentials(self.url),
            "enabled": self.enabled,
            "events": "all" if self.event_types is None else list(self.event_types),
            "auth_type": self.auth_type,
            "has_auth_credentials": self.has_auth_credentials,
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> LiveWebhook:
        """Inverse of ``document`` (a URL's credentials stay masked)."""
        events = doc["events"]
        return cls(
            id=str(doc["id"]),
            name=str(doc["name"]),
            url=str(doc["url"]),
            enabled=bool(doc["enabled"]),
            auth_type=str(doc["auth_type"]),
            has_auth_credentials=bool(doc["has_auth_credentials"]),
            event_types=None if events == "all" else tuple(str(e) for e in events),
        )


def canonical(document: Any) -> str:
    """One text per JSON value (sorted keys, ASCII), to compare documents exactly."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def live_fingerprint(live: Sequence[LiveWebhook]) -> str:
    """A SHA-256 over the live endpoints' configuration, order-independent.

    It covers the masked documents, so it reveals nothing of credentials in
    URLs; ``apply`` still sees a changed one, as a plan that differs.
    """
    documents = sorted((w.document() for w in live), key=lambda d: d["id"])
    return "sha256:" + hashlib.sha256(canonical(documents).encode()).hexdigest()


def describe_drift(before: Sequence[LiveWebhook], after: Sequence[LiveWebhook]) -> list[str]:
    """One line per endpoint that appeared, disappeared or changed between two lists."""
    old = {w.id: w for w in before}
    new = {w.id: w for w in after}
    lines = []
    for webhook_id in sorted(old.keys() - new.keys()):
        lines.append(f"{webhook_id} ({old[webhook_id].url}) was deleted")
    for webhook_id in sorted(new.keys() - old.keys()):
        lines.append(f"{webhook_id} ({new[webhook_id].url}) was created")
    for webhook_id in sorted(old.keys() & new.keys()):
        a, b = old[webhook_id].document(), new[webhook_id].document()
        changed = [key for key in a if a[key] != b[key]]
        if changed:
            lines.append(f"{webhook_id} ({b['url']}) changed: {', '.join(changed)}")
    return lines


@attrs.frozen
class FieldChange:
    """One field's value before and after (credentials show as write-only markers)."""

    field: str
    before: Any
    after: Any


@attrs.frozen
class Change:
    """One planned change to one endpoint.

    ``matched_by`` says which identity rule matched the entry to a live
    endpoint: ``id`` (the entry pins it), ``url`` (same URL), ``new`` (no
    match: create) or ``ownership`` (a live endpoint in the declared scope
    but not in the file: delete, only with prune). ``before`` is the live
    endpoint, ``after`` the desired entry. ``send_credentials`` and
    ``credentials_reason`` say whether, and why, credentials will be sent.
    """

    action: Action
    address: str
    matched_by: str
    webhook_id: str | None
    before: LiveWebhook | None
    after: DesiredWebhook | None
    fields: tuple[FieldChange, ...] = ()
    send_credentials: bool = False
    credentials_reason: str | None = None

    @property
    def name(self) -> str:
        """The endpoint's name (desired if any, else live)."""
        if self.after is not None:
            return self.after.name
        assert self.before is not None
        return self.before.name

    @property
    def url(self) -> str:
        """The endpoint's URL (desired if any, else live)."""
        if self.after is not None:
            return self.after.url
        assert self.before is not None
        return self.before.url

    def document(self) -> dict[str, Any]:
        """This change as one ``resource_changes`` item (no credential values)."""
        after = None
        sources: dict[str, Any] = {}
        if self.after is not None:
            after = _desired_document(self.after)
            marker = WRITE_ONLY_SENT if self.send_credentials else WRITE_ONLY_UNCHANGED
            for credential in self.after.credentials:
                after[credential.field] = marker
                if credential.env is not None:
                    sources[credential.field] = {"env": credential.env}
                else:
                    sources[credential.field] = {"value": mask_url_credentials(credential.value)}
        return {
            "address": self.address,
            "matched_by": self.matched_by,
            "id": self.webhook_id,
            "name": self.name,
            "url": mask_url_credentials(self.url),
            "change": {
                "actions": self.action.terraform_actions,
                "before": None if self.before is None else self.before.document(),
                "after": after,
                "changed_fields": [
                    {"field": f.field, "before": _shown(f.before), "after": _shown(f.after)}
                    for f in self.fields
                ],
                "credentials": {
                    "send": self.send_credentials,
                    "reason": self.credentials_reason,
                },
            },
            "config": None
            if self.after is None
            else {"index": self.after.index, "pinned_id": self.after.id, "credentials": sources},
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any], env: Mapping[str, str]) -> Change:
        """Inverse of ``document``, for showing a saved plan (URL credentials stay masked).

        Env references are resolved from ``env`` again; ``apply`` never sends
        these values, it runs the plan made again from the file.
        """
        change = doc["change"]
        actions = list(change["actions"])
        action = Action.REPLACE if actions == ["delete", "create"] else Action(actions[0])
        before = None if change["before"] is None else LiveWebhook.from_document(change["before"])
        after = None
        if change["after"] is not None:
            after = _desired_from_document(change["after"], doc["config"], env, doc["address"])
        fields = tuple(
            FieldChange(str(f["field"]), f["before"], f["after"]) for f in change["changed_fields"]
        )
        return cls(
            action=action,
            address=str(doc["address"]),
            matched_by=str(doc["matched_by"]),
            webhook_id=doc["id"],
            before=before,
            after=after,
            fields=fields,
            send_credentials=bool(change["credentials"]["send"]),
            credentials_reason=change["credentials"]["reason"],
        )


def _shown(value: Any) -> Any:
    """A field value as a plan shows it: credentials in a URL masked."""
    return mask_url_credentials(value) if isinstance(value, str) else value


def _desired_document(hook: DesiredWebhook) -> dict[str, Any]:
    return {
        "name": hook.name,
        "url": mask_url_credentials(hook.url),
        "enabled": hook.enabled,
        "events": "all" if hook.events is None else list(hook.events),
        "auth_type": hook.auth_type.value,
    }


def _desired_from_document(
    after: Mapping[str, Any], config: Mapping[str, Any], env: Mapping[str, str], address: str
) -> DesiredWebhook:
    credentials = []
    for field, source in config["credentials"].items():
        if "env" in source:
            name = str(source["env"])
            value = env.get(name)
            if not value:
                raise ConfigError(
                    "the saved plan needs credentials from the environment",
                    {f"{address}.{field}": [f"environment variable {name} is not set."]},
                )
            credentials.append(CredentialValue(str(field), name, value))
        elif field in SECRET_FIELDS:
            raise ConfigError(
                "the saved plan holds a literal secret; refusing it",
                {f"{address}.{field}": ["secrets must be env references."]},
            )
        else:
            credentials.append(CredentialValue(str(field), None, str(source["value"])))
    events = after["events"]
    return DesiredWebhook(
        index=int(config["index"]),
        name=str(after["name"]),
        url=str(after["url"]),
        enabled=bool(after["enabled"]),
        events=None if events == "all" else tuple(str(e) for e in events),
        auth_type=AuthType(after["auth_type"]),
        credentials=tuple(credentials),
        id=config["pinned_id"],
    )


@attrs.frozen
class Plan:
    """What ``apply`` will do, and the live state it was computed from.

    ``changes`` lists deletions first, then replacements, updates, creates
    and no-ops. ``live_fingerprint`` lets ``apply`` refuse a stale plan;
    ``lock_path`` is the lock file apply updates; ``prune`` and ``rotate``
    are the options it was made with. A plan loaded with ``from_dict`` also
    keeps the saved document and the file it names (``saved``, ``desired``),
    so that ``apply`` can make it again and refuse any difference.
    """

    changes: tuple[Change, ...]
    live: tuple[LiveWebhook, ...]
    source: str
    lock_path: Path | None = None
    prune: bool = False
    ownership: Ownership | None = None
    rotate: bool | tuple[str, ...] = False
    saved: str | None = attrs.field(default=None, eq=False, repr=False)
    desired: DesiredState | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def live_fingerprint(self) -> str:
        """The fingerprint of the live state this plan was made from."""
        return live_fingerprint(self.live)

    @property
    def pending(self) -> tuple[Change, ...]:
        """The changes that send something (everything but no-ops)."""
        return tuple(c for c in self.changes if c.action is not Action.NOOP)

    @property
    def has_changes(self) -> bool:
        """True when applying would send at least one request."""
        return bool(self.pending)

    def summary(self) -> dict[str, int]:
        """How many changes of each action (``replace`` counted on its own)."""
        counts = {action.value: 0 for action in Action}
        for change in self.changes:
            counts[change.action.value] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """The plan as a JSON-ready document (Terraform-like shape, no secrets)."""
        return {
            "format_version": PLAN_FORMAT_VERSION,
            "tool": f"lettr-async {__version__}",
            "source": self.source,
            "lock_file": None if self.lock_path is None else str(self.lock_path),
            "prune": self.prune,
            "rotate": self.rotate if isinstance(self.rotate, bool) else list(self.rotate),
            "ownership": None if self.ownership is None else attrs.asdict(self.ownership),
            "summary": self.summary(),
            "live_state": {
                "fingerprint": self.live_fingerprint,
                "webhooks": [w.document() for w in self.live],
            },
            "resource_changes": [c.document() for c in self.changes],
        }

    def to_json(self) -> str:
        """``to_dict`` as indented JSON text (lone surrogates escaped, so it always encodes)."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)

    @classmethod
    def from_dict(cls, document: Any, *, env: Mapping[str, str] | None = None) -> Plan:
        """Load a saved plan; the file it names is read again with ``env`` (``os.environ``).

        Raises ``ConfigError`` for a document that is not a plan of a
        supported format version, whose fingerprint does not match its own
        live state, whose lock file is not the one beside its config file, or
        that reads an environment variable its file does not declare for that
        entry. Run it where the plan was made: ``source`` is a path as given.
        ``apply`` then refuses the plan unless planning the file again gives
        exactly this document.
        """
        environment = os.environ if env is None else env
        if not isinstance(document, Mapping):
            raise ConfigError("not a plan", {"plan": ["must be a JSON object."]})
        version = str(document.get("format_version", ""))
        if version.split(".")[0] != PLAN_FORMAT_VERSION.split(".")[0]:
            raise ConfigError(
                "unsupported plan", {"format_version": [f"expected {PLAN_FORMAT_VERSION}."]}
            )
        try:
            saved = canonical(document)
            desired = _saved_config(document, environment)
            _check_env_references(document, desired)
            live = tuple(LiveWebhook.from_document(w) for w in document["live_state"]["webhooks"])
            changes = tuple(
                Change.from_document(c, environment) for c in document["resource_changes"]
            )
            ownership = document.get("ownership")
            rotate = document.get("rotate", False)
            plan = cls(
                changes=changes,
                live=live,
                source=desired.source,
                lock_path=desired.lock_path,
                prune=bool(document["prune"]),
                ownership=None if ownership is None else Ownership(**ownership),
                rotate=rotate if isinstance(rotate, bool) else tuple(str(r) for r in rotate),
                saved=saved,
                desired=desired,
            )
        except ConfigError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(
                "the saved plan is malformed", {"plan": [f"{exc.__class__.__name__}: {exc}"]}
            ) from None
        if plan.live_fingerprint != document["live_state"].get("fingerprint"):
            raise ConfigError(
                "the saved plan was edited", {"live_state.fingerprint": ["does not match."]}
            )
        return plan

    @classmethod
    def from_json(cls, text: str, *, env: Mapping[str, str] | None = None) -> Plan:
        """``from_dict`` of JSON text."""
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            raise ConfigError("not a plan", {"plan": ["is not valid JSON."]}) from None
        return cls.from_dict(document, env=env)


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _saved_config(document: Mapping[str, Any], env: Mapping[str, str]) -> DesiredState:
    """The config file a saved plan names, loaded again; its lock file must be beside it."""
    source = str(document["source"])
    lock_file = document.get("lock_file")
    beside = default_lock_path(source)
    if lock_file is not None and str(lock_file) != str(beside):
        raise ConfigError(
            "the saved plan names a lock file that is not beside its config file; refusing it",
            {"lock_file": [f"must be {beside} (beside {source}), not {lock_file}."]},
        )
    desired = load_config(source, env=env)
    return attrs.evolve(desired, lock_path=None if lock_file is None else beside)


def _check_env_references(document: Mapping[str, Any], desired: DesiredState) -> None:
    """Every env reference in the plan must be the one the file declares for that field."""
    declared: dict[tuple[Any, Any], str | None] = {
        (h.index, c.field): c.env for h in desired.webhooks for c in h.credentials
    }
    errors: dict[str, list[str]] = {}
    for item in document["resource_changes"]:
        config = item.get("config") or {}
        for field, source in dict(config.get("credentials") or {}).items():
            if "env" not in source:
                continue
            if declared.get((config.get("index"), field)) != source["env"]:
                errors.setdefault(f"{item.get('address')}.{field}", []).append(
                    f"reads environment variable {source['env']}, which {desired.source} "
                    "does not declare for this entry."
                )
    if errors:
        raise ConfigError(
            "the saved plan reads environment variables its file does not declare; refusing it",
            errors,
        )
