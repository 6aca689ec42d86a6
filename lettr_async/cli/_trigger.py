"""``lettr-webhooks trigger``: fire realistic events at a receiver, Lettr's way.

A thin shell over ``lettr_async.testing``'s ``WebhookSender`` and
``plan_posts`` (what ``trigger()`` runs; the engine ``FakeLettr.deliver``
uses): options become an ``Endpoint`` and items, each attempt is printed as
it happens (or collected into one ``--json`` document), and the exit status
says whether every POST was accepted.
Nothing here talks to Lettr's API; only ``--to`` and ``--oauth-token-url``
are contacted. Secrets come from options or environment variables and are
never printed: the engine masks them in receivers' answers and errors.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from ..models import mask_url_credentials
from ..testing import (
    DEFAULT_ATTEMPT_TIMEOUT,
    DEFAULT_TIME_SCALE,
    MAX_EVENTS_FILE_BYTES,
    AttemptResult,
    DeliveryReport,
    Endpoint,
    WebhookSender,
    build_items,
    event_type_of,
    load_events,
    plan_posts,
)
from ._context import get_settings
from ._errors import EXIT_FAILURE, EXIT_USAGE, CliError
from ._output import terminal_safe, to_json

__all__ = ["trigger_command", "usage_error"]

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ANSWER_SHOWN = 200
_OPTION_OF = {"url": "--to", "timeout": "--attempt-timeout", "events": "EVENT"}


def _event_label(item: Mapping[str, Any]) -> str:
    """An item's canonical type, or ``family.type`` for types this SDK does not know."""
    known = event_type_of(item)
    if known is not None:
        return known
    ((family, inner),) = item["msys"].items()
    return f"{family}.{inner.get('type')}"


def _event_id(item: Mapping[str, Any]) -> Any:
    ((_family, inner),) = item["msys"].items()
    return inner.get("event_id")


def usage_error(message: str) -> CliError:
    """A ``ValueError`` text ``field: why`` as a usage error naming the option."""
    field, sep, why = message.partition(": ")
    if sep and _FIELD.match(field):
        option = _OPTION_OF.get(field, "--" + field.replace("_", "-"))
        message = f"{option}: {why}"
    return CliError(message, EXIT_USAGE, {"type": "UsageError"})


_USED_BY = {
    "auth_username": "basic",
    "auth_password": "basic",
    "oauth_token_url": "oauth2",
    "oauth_client_id": "oauth2",
    "oauth_client_secret": "oauth2",
}


def _credentials_for(auth_type: str, **given: str | None) -> dict[str, str | None]:
    """The credentials ``auth_type`` uses; the others are dropped.

    One given on the command line for another auth type is a usage error
    (a forgotten ``--auth-type``); one from the environment is ignored, as
    ``$LETTR_AUTH_PASSWORD`` may be exported for ``create``.
    """
    ctx = click.get_current_context()
    kept: dict[str, str | None] = {}
    for name, value in given.items():
        if _USED_BY[name] == auth_type:
            kept[name] = value
        elif value is not None and (
            ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
        ):
            raise usage_error(f"{name}: needs --auth-type {_USED_BY[name]}")
    return kept


def _parse_fields(values: Sequence[str]) -> dict[str, Any]:
    """``--field key=value`` pairs; a value starting with ``{`` or ``[`` is JSON."""
    fields: dict[str, Any] = {}
    for value in values:
        key, sep, raw = value.partition("=")
        if not sep or not _FIELD.match(key):
            raise usage_error(f"field: expected key=value with a plain key, got {value!r}")
        if raw[:1] in ("{", "["):
            try:
                fields[key] = json.loads(raw)
            except (ValueError, RecursionError):
                raise usage_error(f"field: {key}'s value is not valid JSON") from None
        else:
            fields[key] = raw
    return fields


def _read_file(path: Path) -> list[dict[str, Any]]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_EVENTS_FILE_BYTES + 1)
        return load_events(raw)
    except OSError as exc:
        raise usage_error(f"from_file: cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise usage_error(f"from_file: {exc}") from None


def _attempt_document(result: AttemptResult) -> dict[str, Any]:
    return {
        "attempt": result.number,
        "delay_s": result.delay,
        "status": result.status,
        "error": result.error,
        "latency_ms": round(result.latency * 1000, 3),
        "answer": result.answer,
        "answer_truncated": result.answer_truncated,
    }


def _delivery_document(
    items: Sequence[Mapping[str, Any]], repeat: int, report: DeliveryReport
) -> dict[str, Any]:
    return {
        "events": [{"type": _event_label(i), "event_id": _event_id(i)} for i in items],
        "repeat": repeat,
        "accepted": report.delivered,
        "gone": report.disabled,
        "attempts": [_attempt_document(result) for result in report.results],
    }


def _attempt_line(result: AttemptResult) -> str:
    when = "" if result.number == 1 else f" after {result.delay:.3g} s"
    head = f"  attempt {result.number}{when}: "
    if result.status is None:
        return head + terminal_safe(f"no answer ({result.error})")
    answer = result.answer.strip()
    cut = len(answer) > _ANSWER_SHOWN or result.answer_truncated
    shown = answer[:_ANSWER_SHOWN] + (" [truncated]" if cut else "")
    ms = result.latency * 1000
    return (
        head
        + f"HTTP {result.status} in {ms:.1f} ms"
        + (f"  {terminal_safe(shown)}" if shown else "")
    )


def _send_line(items: Sequence[Mapping[str, Any]], repeat: int, number: int) -> str:
    labels = [f"{_event_label(i)} (event_id {_event_id(i)})" for i in items]
    again = f" (repeat {repeat}, same event_id)" if repeat else ""
    return terminal_safe(f"POST {number}{again}: {', '.join(labels)}")


def _verdict(report: DeliveryReport) -> str:
    if report.delivered:
        return "  -> accepted"
    if report.disabled:
        return "  -> 410 Gone: Lettr would stop retrying and disable the webhook"
    return f"  -> not accepted after {len(report.attempts)} attempt(s)"


@click.command("trigger")
@click.argument("events", metavar="[EVENT]...", nargs=-1)
@click.option("--to", "url", required=True, metavar="URL", help="The receiver's URL.")
@click.option(
    "--batch",
    "batch_size",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="Events per POST (Lettr sends a JSON array).",
)
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a field of every event (repeatable), e.g. rcpt_to=ann@example.com; "
    "a value starting with { or [ is JSON.",
)
@click.option(
    "--from-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also send the event(s) in this JSON file: one item or an array, as Lettr POSTs.",
)
@click.option(
    "--auth-type",
    type=click.Choice(["none", "basic", "oauth2"]),
    default="none",
    show_default=True,
    help="The authentication the receiver expects.",
)
@click.option(
    "--auth-username",
    envvar="LETTR_AUTH_USERNAME",
    help="Basic auth user name (or $LETTR_AUTH_USERNAME).",
)
@click.option(
    "--auth-password",
    envvar="LETTR_AUTH_PASSWORD",
    help="Basic auth password (or $LETTR_AUTH_PASSWORD). Never printed.",
)
@click.option("--oauth-token-url", metavar="URL", help="OAuth2 client-credentials token URL.")
@click.option(
    "--oauth-client-id",
    envvar="LETTR_OAUTH_CLIENT_ID",
    help="OAuth2 client id (or $LETTR_OAUTH_CLIENT_ID).",
)
@click.option(
    "--oauth-client-secret",
    envvar="LETTR_OAUTH_CLIENT_SECRET",
    help="OAuth2 client secret (or $LETTR_OAUTH_CLIENT_SECRET). Never printed.",
)
@click.option(
    "--signing-secret",
    envvar="LETTR_SIGNING_SECRET",
    help="Add a Lettr-Signature header signed with this secret (or $LETTR_SIGNING_SECRET). "
    "Never printed.",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0),
    default=DEFAULT_TIME_SCALE,
    show_default=True,
    help="Factor on Lettr's retry schedule (at once, then 1 min, 5 min, 30 min, 2 h, 8 h, "
    "24 h); 1 is real time.",
)
@click.option("--no-retry", is_flag=True, help="One attempt per POST.")
@click.option(
    "--attempt-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_ATTEMPT_TIMEOUT,
    show_default=True,
    help="Seconds the receiver has to answer each attempt (not scaled).",
)
@click.option(
    "--repeat",
    type=click.IntRange(0, 100),
    default=0,
    is_flag=False,
    flag_value=1,
    help="Send every POST again N times (default 1), byte for byte: the same event_id.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document at the end.")
def trigger_command(
    events: tuple[str, ...],
    url: str,
    batch_size: int,
    fields: tuple[str, ...],
    from_file: Path | None,
    auth_type: str,
    auth_username: str | None,
    auth_password: str | None,
    oauth_token_url: str | None,
    oauth_client_id: str | None,
    oauth_client_secret: str | None,
    signing_secret: str | None,
    time_scale: float,
    no_retry: bool,
    attempt_timeout: float,
    repeat: int,
    as_json: bool,
) -> None:
    """Deliver realistic events to a receiver (URL) the way Lettr does.

    EVENT is an event type (message.bounce, bounce, engagament.click...) or
    `all`; see `lettr-webhooks events`. Exit status 0 when the receiver
    accepted every POST, 1 otherwise, 2 for bad arguments.

    \b
    Example:
      lettr-webhooks trigger bounce click --to http://localhost:8000/hooks/lettr \\
          --auth-type basic --auth-username lettr    # password from $LETTR_AUTH_PASSWORD
    """
    as_json = as_json or get_settings().json
    credentials = _credentials_for(
        auth_type,
        auth_username=auth_username,
        auth_password=auth_password,
        oauth_token_url=oauth_token_url,
        oauth_client_id=oauth_client_id,
        oauth_client_secret=oauth_client_secret,
    )
    endpoint = Endpoint(url, auth_type=auth_type, signing_secret=signing_secret, **credentials)
    if not events and from_file is None:
        raise usage_error("events: give event types, `all`, or --from-file")
    try:
        named = build_items(events)
    except ValueError as exc:
        raise usage_error(f"events: {exc}") from None
    try:
        file_items = _read_file(from_file) if from_file else []
        plan = plan_posts(
            build_items([*file_items, *named], _parse_fields(fields)), batch_size, repeat
        )
        sender = WebhookSender(
            endpoint, time_scale=time_scale, retry=not no_retry, timeout=attempt_timeout
        )
    except ValueError as exc:
        raise usage_error(str(exc)) from None
    reports = asyncio.run(_deliver(sender, plan, as_json))
    documents = [
        _delivery_document(batch, number, report)
        for (batch, number), report in zip(plan, reports, strict=True)
    ]
    accepted = sum(report.delivered for report in reports)
    summary = f"{accepted} of {len(reports)} POSTs accepted."
    if as_json:
        summary = to_json(
            {
                "to": mask_url_credentials(url),
                "accepted": accepted == len(reports),
                "posts": len(reports),
                "posts_accepted": accepted,
                "deliveries": documents,
            }
        )
    click.echo(summary)
    if accepted != len(reports):
        click.get_current_context().exit(EXIT_FAILURE)


async def _deliver(
    sender: WebhookSender, plan: Sequence[tuple[Sequence[Mapping[str, Any]], int]], quiet: bool
) -> list[DeliveryReport]:
    """Send the plan in order; unless ``quiet``, print each POST, attempt and verdict."""

    def echo(text: str) -> None:
        if not quiet:
            click.echo(text)

    echo(terminal_safe(f"Delivering to {mask_url_credentials(sender.endpoint.url)}"))
    reports = []
    async with sender:
        for index, (batch, number) in enumerate(plan, start=1):
            echo(_send_line(batch, number, index))
            report = await sender.send(batch, on_attempt=lambda r: echo(_attempt_line(r)))
            echo(_verdict(report))
            reports.append(report)
    return reports
