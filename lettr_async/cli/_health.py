"""``lettr-webhooks health``: which endpoints are failing, for a terminal, cron or CI.

One list call; every endpoint classified as ``failing`` (enabled, and its
last delivery failed), ``disabled`` or ``healthy`` (enabled, and its last
delivery succeeded or there was none yet), shown failing first (most recent
failure first), then disabled, then healthy, with the time since its last
success and failure. ``--fail-on`` turns the result into an exit status that
monitoring can act on. URLs are masked like every other command's output.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import click

from ..models import Webhook, mask_url_credentials
from ._context import get_settings, run_client
from ._errors import EXIT_FAILURE, EXIT_OK
from ._output import _table as render_rows
from ._output import to_json

__all__ = ["classify", "health_command", "health_order"]

STATES = ("failing", "disabled", "healthy")
_FAIL_ON = {
    "failing": {"failing"},
    "any-disabled": {"failing", "disabled"},
    "never": set(),
}
_EXIT_HELP = (
    "\b\nExit codes:\n"
    "  0  healthy, as --fail-on defines it\n"
    "  1  unhealthy, as --fail-on defines it\n"
    "  2  usage error\n"
    "  3  the API answered with an error\n"
    "  4  network error or timeout"
)
_UNITS: tuple[tuple[str, int], ...] = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def classify(webhook: Webhook) -> str:
    """``failing``, ``disabled`` or ``healthy`` (see the module docstring)."""
    if not webhook.enabled:
        return "disabled"
    return "failing" if webhook.last_status == "failure" else "healthy"


def health_order(webhooks: Sequence[Webhook]) -> list[Webhook]:
    """Failing first (latest failure first), then disabled, then healthy (by name, id)."""

    def key(webhook: Webhook) -> tuple[int, float, str, str]:
        state = classify(webhook)
        latest = webhook.last_failure_at
        recency = -latest.timestamp() if state == "failing" and latest is not None else 0.0
        return STATES.index(state), recency, webhook.name, webhook.id

    return sorted(webhooks, key=key)


def _seconds_since(when: datetime | None, now: datetime) -> int | None:
    return None if when is None else max(0, int((now - when).total_seconds()))


def _age(seconds: int | None) -> str:
    """``3d 4h ago``: the largest unit and the next one, or ``never``."""
    if seconds is None:
        return "never"
    units = _UNITS[-1:]
    for index, (_unit, size) in enumerate(_UNITS):
        if seconds >= size:
            units = _UNITS[index : index + 2]
            break
    parts: list[str] = []
    for unit, size in units:
        parts.append(f"{seconds // size}{unit}")
        seconds %= size
    return " ".join(parts) + " ago"


def _document(webhook: Webhook, now: datetime) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "name": webhook.name,
        "url": mask_url_credentials(webhook.url),
        "state": classify(webhook),
        "enabled": webhook.enabled,
        "last_status": None if webhook.last_status is None else str(webhook.last_status),
        "last_successful_at": _iso(webhook.last_successful_at),
        "last_failure_at": _iso(webhook.last_failure_at),
        "seconds_since_last_success": _seconds_since(webhook.last_successful_at, now),
        "seconds_since_last_failure": _seconds_since(webhook.last_failure_at, now),
    }


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


def _render(documents: Sequence[dict[str, Any]], counts: dict[str, int]) -> str:
    if not documents:
        return "No webhooks."
    headers = ["STATE", "ID", "NAME", "URL", "ENABLED", "LAST STATUS", "LAST OK", "LAST FAILURE"]
    rows = [
        [
            doc["state"],
            doc["id"],
            doc["name"],
            doc["url"],
            "yes" if doc["enabled"] else "no",
            doc["last_status"] or "-",
            _age(doc["seconds_since_last_success"]),
            _age(doc["seconds_since_last_failure"]),
        ]
        for doc in documents
    ]
    summary = ", ".join(f"{counts[state]} {state}" for state in STATES)
    return f"{render_rows(headers, rows)}\n\n{summary}."


@click.command("health", epilog=_EXIT_HELP)
@click.option(
    "--fail-on",
    type=click.Choice(sorted(_FAIL_ON)),
    default="failing",
    show_default=True,
    help="Exit 1 when: an enabled endpoint's last delivery failed (failing); "
    "that, or any endpoint is disabled (any-disabled); never.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one machine-readable JSON document.")
def health_command(fail_on: str, as_json: bool) -> None:
    """Show every endpoint's delivery health: failing first, then disabled, then healthy.

    \b
    For cron or CI:
      lettr-webhooks health --json || alert "a Lettr webhook is failing"
    """
    settings = get_settings()
    webhooks = run_client(settings, lambda client: client.webhooks.list())
    now = datetime.now(timezone.utc)
    documents = [_document(webhook, now) for webhook in health_order(webhooks)]
    counts = {state: sum(doc["state"] == state for doc in documents) for state in STATES}
    code = EXIT_FAILURE if any(counts[state] for state in _FAIL_ON[fail_on]) else EXIT_OK
    if as_json or settings.json:
        click.echo(to_json({**counts, "exit_code": code, "webhooks": documents}))
    else:
        click.echo(_render(documents, counts))
    if code:
        click.get_current_context().exit(code)
