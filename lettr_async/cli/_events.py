"""``lettr-webhooks events``: the event types, and what one delivery of each carries.

Why: the receiver's author needs the names ``trigger`` and ``create --event``
accept, and a sample body to write a parser or fixture against, without
reading Lettr's docs. Samples come from ``lettr_async.testing.make_event``,
the same factory ``trigger`` and ``FakeLettr.deliver`` send.
"""

from __future__ import annotations

import click

from .. import EVENT_TYPES
from ..testing import EVENT_MEANINGS, FAMILY_BY_CATEGORY, make_event
from ._context import get_settings
from ._output import _table as render_rows
from ._output import to_json
from ._trigger import usage_error

__all__ = ["events_command"]


def _rows() -> list[dict[str, str]]:
    rows = []
    for name in EVENT_TYPES:
        category, short = name.split(".", 1)
        rows.append(
            {
                "name": name,
                "short_name": short,
                "family": FAMILY_BY_CATEGORY[category],
                "meaning": EVENT_MEANINGS[name],
            }
        )
    return rows


@click.command("events")
@click.option(
    "--sample",
    metavar="TYPE",
    help="Print the JSON body one delivery of TYPE carries (an array of one event).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def events_command(sample: str | None, as_json: bool) -> None:
    """List the event types: canonical name, short name, family, meaning.

    Any of the names (and the legacy `engagament.` prefix) work with
    `trigger` and `create --event`.
    """
    if sample is not None:
        try:
            click.echo(to_json([make_event(sample)]))
        except ValueError as exc:
            raise usage_error(f"sample: {exc}") from None
        return
    rows = _rows()
    if as_json or get_settings().json:
        click.echo(to_json(rows))
        return
    headers = ["EVENT TYPE", "SHORT NAME", "FAMILY", "MEANING"]
    click.echo(render_rows(headers, [list(row.values()) for row in rows]))
