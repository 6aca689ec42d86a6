"""Rendering webhooks and bulk results as tables, details and JSON.

Pure functions returning strings. Everything that came from the server is
made harmless for a terminal first: ``terminal_safe`` escapes control
characters (C0, DEL, C1, ESC) and bidirectional overrides in readable output,
``to_json`` escapes them inside JSON strings, and credentials embedded in
webhook URLs are masked everywhere (``https://***@host/...``).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from .. import BulkResult
from ..models import Webhook, mask_url_credentials

__all__ = [
    "bulk_document",
    "terminal_safe",
    "render_bulk",
    "render_preview",
    "render_table",
    "render_webhook",
    "to_json",
    "webhook_document",
]

_EVENTS_SHOWN = 2

# C0 controls (tab and newline included: a cell is one line), DEL, C1 controls,
# the Unicode bidi controls that can make text display in another order, and
# lone surrogates (a server's "\ud800" decodes to one; it cannot be encoded).
_UNSAFE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
# Inside JSON strings json.dumps already escapes C0; the rest is escaped here.
_UNSAFE_IN_JSON = re.compile(
    r"[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """Escape control and bidi characters so server data cannot drive the terminal.

    Why: a webhook name such as ``"\\x1b]0;pwned\\x07"`` would otherwise
    retitle the terminal, hide text or reorder it, and a lone surrogate would
    make printing fail. They are shown as ``\\x1b`` / ``\\u202e`` instead.
    """
    return _UNSAFE.sub(_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def webhook_document(webhook: Webhook) -> dict[str, Any]:
    """A webhook as a JSON-ready dict: the API's field names, ISO 8601 datetimes."""
    return {
        "id": webhook.id,
        "name": webhook.name,
        "url": mask_url_credentials(webhook.url),
        "enabled": webhook.enabled,
        "auth_type": _plain(webhook.auth_type),
        "has_auth_credentials": webhook.has_auth_credentials,
        "event_types": _plain(webhook.event_types),
        "last_successful_at": _plain(webhook.last_successful_at),
        "last_failure_at": _plain(webhook.last_failure_at),
        "last_status": _plain(webhook.last_status),
    }


def to_json(document: Any) -> str:
    """Serialise one output document (indented, stable key order, terminal-safe).

    Non-ASCII text stays readable; control and bidi characters and lone
    surrogates are written as ``\\uXXXX`` escapes, which JSON parsers read
    back unchanged.
    """
    text = json.dumps(document, indent=2, ensure_ascii=False)
    return _UNSAFE_IN_JSON.sub(_json_escape, text)


def _events_cell(event_types: Sequence[str] | None) -> str:
    if event_types is None:
        return "all"
    shown = ", ".join(event_types[:_EVENTS_SHOWN])
    more = len(event_types) - _EVENTS_SHOWN
    return f"{shown}, +{more} more" if more > 0 else shown


def _when(value: datetime | None) -> str:
    return value.isoformat() if value is not None else "-"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    rows = [[terminal_safe(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )
    return "\n".join(lines)


def render_table(webhooks: Sequence[Webhook]) -> str:
    """The readable table ``list`` prints: one row per webhook."""
    if not webhooks:
        return "No webhooks."
    rows = [
        [
            w.id,
            w.name,
            mask_url_credentials(w.url),
            "yes" if w.enabled else "no",
            str(_plain(w.auth_type)),
            _events_cell(w.event_types),
            str(_plain(w.last_status) or "-"),
        ]
        for w in webhooks
    ]
    headers = ["ID", "NAME", "URL", "ENABLED", "AUTH", "EVENTS", "LAST STATUS"]
    return _table(headers, rows)


def render_webhook(webhook: Webhook) -> str:
    """A webhook as ``field: value`` lines (``get``, ``create``, ``update``)."""
    auth = str(_plain(webhook.auth_type))
    if webhook.has_auth_credentials:
        auth += " (credentials stored)"
    events = "all" if webhook.event_types is None else ", ".join(webhook.event_types)
    pairs = [
        ("id", webhook.id),
        ("name", webhook.name),
        ("url", mask_url_credentials(webhook.url)),
        ("enabled", "yes" if webhook.enabled else "no"),
        ("auth", auth),
        ("events", events),
        ("last status", str(_plain(webhook.last_status) or "-")),
        ("last success", _when(webhook.last_successful_at)),
        ("last failure", _when(webhook.last_failure_at)),
    ]
    width = max(len(label) for label, _ in pairs) + 1
    return "\n".join(
        f"{(label + ':').ljust(width)} {terminal_safe(value)}" for label, value in pairs
    )


def bulk_document(result: BulkResult[Any], redact: Any = None) -> dict[str, Any]:
    """The JSON document of a bulk run: totals plus one outcome per item."""
    outcomes = []
    for outcome in result.outcomes:
        error = None if outcome.error is None else str(outcome.error)
        if error is not None and redact is not None:
            error = redact(error)
        outcomes.append({"key": outcome.key, "ok": outcome.ok, "error": error})
    return {
        "total": len(result.outcomes),
        "succeeded": len(result.succeeded),
        "failed": len(result.failed),
        "outcomes": outcomes,
    }


def render_bulk(document: Mapping[str, Any], verb: str) -> str:
    """Readable lines for a bulk document: failures first named, then a summary."""
    lines = []
    for outcome in document["outcomes"]:
        key = terminal_safe(str(outcome["key"]))
        if outcome["ok"]:
            lines.append(f"  ok      {key}")
        else:
            lines.append(f"  FAILED  {key}: {terminal_safe(str(outcome['error']))}")
    lines.append(
        f"{verb} {document['succeeded']} of {document['total']} webhooks"
        + (f"; {document['failed']} failed." if document["failed"] else ".")
    )
    return "\n".join(lines)


def _change_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return str(value)


def render_preview(preview: Sequence[Mapping[str, Any]], action: str) -> str:
    """Readable lines for a dry-run preview (``bulk-update`` / ``bulk-delete``)."""
    if not preview:
        return f"Dry run: no webhooks selected; nothing would be {action}d."
    lines = [f"Dry run: would {action} {len(preview)} webhook(s); nothing was sent."]
    for step in preview:
        head = f"  {step['id']}  {step['name']!r}  {step['url']}"
        lines.append(terminal_safe(head))
        for field, change in step.get("changes", {}).items():
            before, after = _change_text(change["from"]), _change_text(change["to"])
            lines.append(terminal_safe(f"      {field}: {before} -> {after}"))
    return "\n".join(lines)
