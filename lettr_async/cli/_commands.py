"""The subcommands of ``lettr-webhooks``: list, get, create, update, delete, bulk, demo."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from .. import (
    AsyncLettr,
    BulkResult,
    LettrError,
    ValidationError,
    Webhook,
    validate_update_fields,
)
from ._context import (
    Settings,
    concurrency_option,
    get_settings,
    progress_bar,
    require_answerable,
    resolve_secret,
    run_client,
    stderr_is_tty,
)
from ._errors import (
    EXIT_API,
    EXIT_CODES_HELP,
    EXIT_FAILURE,
    CliError,
    from_lettr_error,
    redact,
)
from ._output import (
    bulk_document,
    render_bulk,
    render_preview,
    render_table,
    render_webhook,
    to_json,
    webhook_document,
)
from ._select import delete_preview, select, update_preview

if TYPE_CHECKING:
    from .. import WebhookUpdateFields

__all__ = [
    "bulk_delete_command",
    "bulk_update_command",
    "create_command",
    "delete_command",
    "demo_command",
    "get_command",
    "list_command",
    "update_command",
]

F = TypeVar("F", bound=Callable[..., Any])

AUTH_TYPES = click.Choice(["none", "basic", "oauth2"])
PASSWORD_ENV = "LETTR_AUTH_PASSWORD"  # noqa: S105 - an env var name
CLIENT_SECRET_ENV = "LETTR_OAUTH_CLIENT_SECRET"  # noqa: S105 - an env var name


def json_option(func: F) -> F:
    """Add ``--json`` to a command."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one machine-readable JSON document."
    )(func)


def _wants_json(as_json: bool) -> bool:
    return as_json or get_settings().json


def _emit(as_json: bool, document: Any, text: str) -> None:
    click.echo(to_json(document) if _wants_json(as_json) else text)


def update_field_options(func: F) -> F:
    """The ``update`` fields as options, shared by ``update`` and ``bulk-update``."""
    options = [
        click.option("--name", help="New display name."),
        click.option("--url", help="New endpoint URL (absolute http/https)."),
        click.option("--auth-type", type=AUTH_TYPES, help="New delivery authentication."),
        click.option("--auth-username", help="Basic auth user name."),
        click.option(
            "--auth-password",
            help=f"Basic auth password (or ${PASSWORD_ENV}; prompted on a terminal when "
            "--auth-type basic needs it). Never printed.",
        ),
        click.option("--oauth-client-id", help="OAuth2 client id."),
        click.option(
            "--oauth-client-secret",
            help=f"OAuth2 client secret (or ${CLIENT_SECRET_ENV}; prompted on a terminal "
            "when --auth-type oauth2 needs it). Never printed.",
        ),
        click.option("--oauth-token-url", help="OAuth2 token endpoint URL."),
        click.option(
            "--event",
            "events",
            multiple=True,
            help="Event type to receive (repeatable; short names such as 'delivery' work). "
            "Replaces the current selection.",
        ),
        click.option(
            "--enable/--disable", "active", default=None, help="Enable or disable deliveries."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _update_fields(settings: Settings, raw: dict[str, Any]) -> dict[str, Any]:
    """The non-empty update fields, with secrets resolved from env or a prompt."""
    auth_type = raw.get("auth_type")
    raw["auth_password"] = resolve_secret(
        settings,
        raw.get("auth_password"),
        envvar=PASSWORD_ENV,
        needed=auth_type == "basic",
        prompt="Basic auth password",
    )
    raw["oauth_client_secret"] = resolve_secret(
        settings,
        raw.get("oauth_client_secret"),
        envvar=CLIENT_SECRET_ENV,
        needed=auth_type == "oauth2",
        prompt="OAuth2 client secret",
    )
    fields = {key: value for key, value in raw.items() if value is not None}
    if "events" in fields:
        fields["events"] = _split_events(fields["events"])
        if not fields["events"]:
            del fields["events"]
    return fields


def _split_events(values: tuple[str, ...] | list[str]) -> list[str]:
    """``--event a --event b,c`` -> ``[a, b, c]``."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _validate_update(settings: Settings, fields: dict[str, Any]) -> dict[str, Any]:
    """Check the update locally before anything is listed or sent (exit 2).

    Uses the SDK's own public check, so ``--dry-run`` rejects exactly what
    ``update_many`` would; the event names come back normalised.
    """
    try:
        checked = validate_update_fields(fields)
    except LettrError as exc:
        raise from_lettr_error(exc, settings.secrets) from None
    if "events" in checked:
        return {**fields, "events": checked["events"]}
    return fields


# -- single-webhook commands --------------------------------------------------------


@click.command("list", epilog=EXIT_CODES_HELP)
@json_option
def list_command(as_json: bool) -> None:
    """List every webhook of the team."""
    settings = get_settings()
    webhooks = run_client(settings, lambda client: client.webhooks.list())
    _emit(as_json, [webhook_document(w) for w in webhooks], render_table(webhooks))


@click.command("get", epilog=EXIT_CODES_HELP)
@click.argument("webhook_id", metavar="ID")
@json_option
def get_command(webhook_id: str, as_json: bool) -> None:
    """Show one webhook."""
    settings = get_settings()
    webhook = run_client(settings, lambda client: client.webhooks.get(webhook_id))
    _emit(as_json, webhook_document(webhook), render_webhook(webhook))


@click.command("create", epilog=EXIT_CODES_HELP)
@click.option("--name", help="Display name (required).")
@click.option("--url", help="Endpoint URL, absolute http/https (required).")
@click.option(
    "--auth-type",
    type=AUTH_TYPES,
    default="none",
    show_default=True,
    help="How Lettr authenticates its deliveries.",
)
@click.option(
    "--events-mode",
    type=click.Choice(["all", "selected"]),
    help="'selected' (the default when --event is given) or 'all' (the default otherwise).",
)
@click.option("--auth-username", help="Basic auth user name (with --auth-type basic).")
@click.option(
    "--auth-password",
    help=f"Basic auth password (or ${PASSWORD_ENV}; prompted on a terminal). Never printed.",
)
@click.option("--oauth-client-id", help="OAuth2 client id (with --auth-type oauth2).")
@click.option(
    "--oauth-client-secret",
    help=f"OAuth2 client secret (or ${CLIENT_SECRET_ENV}; prompted on a terminal). Never printed.",
)
@click.option("--oauth-token-url", help="OAuth2 token endpoint URL (with --auth-type oauth2).")
@click.option(
    "--event",
    "events",
    multiple=True,
    help="Event type to receive (repeatable, or comma-separated; short names work).",
)
@json_option
def create_command(
    name: str | None,
    url: str | None,
    auth_type: str,
    events_mode: str | None,
    auth_username: str | None,
    auth_password: str | None,
    oauth_client_id: str | None,
    oauth_client_secret: str | None,
    oauth_token_url: str | None,
    events: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create a webhook. Arguments are checked locally before anything is sent."""
    settings = get_settings()
    event_list = _split_events(events) or None
    mode = events_mode or ("selected" if event_list else "all")
    fields: dict[str, Any] = {
        "name": name,
        "url": url,
        "auth_type": auth_type,
        "events_mode": mode,
        "auth_username": auth_username,
        "auth_password": resolve_secret(
            settings,
            auth_password,
            envvar=PASSWORD_ENV,
            needed=auth_type == "basic",
            prompt="Basic auth password",
            required="--auth-password",
        ),
        "oauth_client_id": oauth_client_id,
        "oauth_client_secret": resolve_secret(
            settings,
            oauth_client_secret,
            envvar=CLIENT_SECRET_ENV,
            needed=auth_type == "oauth2",
            prompt="OAuth2 client secret",
            required="--oauth-client-secret",
        ),
        "oauth_token_url": oauth_token_url,
        "events": event_list,
    }
    webhook = run_client(settings, lambda client: client.webhooks.create(**fields))
    _emit(
        as_json,
        webhook_document(webhook),
        f"Created webhook {webhook.id}.\n{render_webhook(webhook)}",
    )


@click.command("update", epilog=EXIT_CODES_HELP)
@click.argument("webhook_id", metavar="ID")
@update_field_options
@json_option
def update_command(webhook_id: str, as_json: bool, **raw: Any) -> None:
    """Change only the given fields of one webhook."""
    settings = get_settings()
    fields = _update_fields(settings, raw)
    webhook = run_client(settings, lambda client: client.webhooks.update(webhook_id, **fields))
    _emit(
        as_json,
        webhook_document(webhook),
        f"Updated webhook {webhook.id}.\n{render_webhook(webhook)}",
    )


@click.command("delete", epilog=EXIT_CODES_HELP)
@click.argument("webhook_id", metavar="ID")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@json_option
def delete_command(webhook_id: str, yes: bool, as_json: bool) -> None:
    """Delete one webhook (asks first unless --yes)."""
    settings = get_settings()
    require_answerable("delete", yes)
    if not yes:
        click.confirm(f"Delete webhook {webhook_id}?", abort=True, err=True)
    run_client(settings, lambda client: client.webhooks.delete(webhook_id))
    _emit(as_json, {"deleted": webhook_id}, f"Deleted webhook {webhook_id}.")


# -- bulk commands ------------------------------------------------------------------


def selection_options(func: F) -> F:
    """Ids as arguments plus ``--match-url``/``--match-name`` globs, dry run, --yes."""
    options = [
        click.argument("webhook_ids", metavar="[ID]...", nargs=-1),
        click.option(
            "--match-url", metavar="GLOB", help="Select webhooks whose URL matches (fnmatch)."
        ),
        click.option(
            "--match-name", metavar="GLOB", help="Select webhooks whose name matches (fnmatch)."
        ),
        click.option("--dry-run", is_flag=True, help="Print a preview; send no change."),
        click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation."),
        concurrency_option,
        click.option("--fail-fast", is_flag=True, help="Stop sending after the first failure."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


_ITEM_PREFIX = re.compile(r"^[a-z_]+\[\d+\]\.")


async def _same_fields_for_all(call: Awaitable[BulkResult[Any]]) -> BulkResult[Any]:
    """Report a bulk validation error once per field, not once per webhook.

    ``bulk-update`` sends the same fields to every webhook, so
    ``updates[0].url`` and ``updates[7].url`` say the same thing: the error
    is re-raised with the item prefixes removed and duplicates dropped.
    """
    try:
        return await call
    except ValidationError as exc:
        if exc.status_code is not None:
            raise
        merged: dict[str, list[str]] = {}
        for field, messages in exc.errors.items():
            target = merged.setdefault(_ITEM_PREFIX.sub("", field), [])
            target.extend(m for m in messages if m not in target)
        raise ValidationError(exc.message, errors=merged) from None


def _require_selection(
    webhook_ids: tuple[str, ...], match_url: str | None, match_name: str | None
) -> None:
    if not webhook_ids and match_url is None and match_name is None:
        raise click.UsageError("select webhooks: give IDs, --match-url or --match-name")


def _choose(
    webhooks: list[Webhook],
    webhook_ids: tuple[str, ...],
    match_url: str | None,
    match_name: str | None,
) -> list[Webhook]:
    selection = select(webhooks, webhook_ids, match_url, match_name)
    if selection.missing:
        raise CliError(f"no webhook with id: {', '.join(selection.missing)}", EXIT_API)
    return selection.webhooks


async def _with_progress(
    as_json: bool,
    label: str,
    total: int,
    call: Callable[[Callable[[int, int], None] | None], Awaitable[BulkResult[Any]]],
) -> BulkResult[Any]:
    """Await a bulk call, with a progress bar on stderr when it is a terminal."""
    if _wants_json(as_json) or not stderr_is_tty():
        return await call(None)
    with progress_bar(label, total) as on_progress:
        return await call(on_progress)


def _run_bulk(
    settings: Settings,
    as_json: bool,
    selection: tuple[tuple[str, ...], str | None, str | None],
    preview: Callable[[list[Webhook]], list[dict[str, Any]]],
    verb: str,
    label: str,
    call: Callable[
        [AsyncLettr, list[Webhook], Callable[[int, int], None] | None],
        Awaitable[BulkResult[Any]],
    ],
    dry_run: bool,
    yes: bool,
) -> BulkResult[Any] | None:
    """List, choose, show the preview or confirm, then run the bulk call: one client throughout.

    Returns ``None`` when nothing was sent (``--dry-run``).
    """
    _require_selection(*selection)
    if not dry_run:
        require_answerable(verb, yes)

    async def flow(client: AsyncLettr) -> BulkResult[Any] | None:
        chosen = _choose(await client.webhooks.list(), *selection)
        if not _show_preview_or_confirm(preview(chosen), verb, as_json, dry_run, yes):
            return None
        return await _with_progress(
            as_json, label, len(chosen), lambda progress: call(client, chosen, progress)
        )

    return run_client(settings, flow)


def _show_preview_or_confirm(
    preview: list[dict[str, Any]], verb: str, as_json: bool, dry_run: bool, yes: bool
) -> bool:
    """Print the preview and stop (``--dry-run``), or ask before writing; True to go on."""
    if dry_run:
        _emit(as_json, {"dry_run": True, "preview": preview}, render_preview(preview, verb))
        return False
    if preview and not yes:
        click.confirm(f"{verb.capitalize()} {len(preview)} webhook(s)?", abort=True, err=True)
    return True


def _finish_bulk(
    settings: Settings, as_json: bool, result: BulkResult[Any] | None, verb: str
) -> None:
    if result is None:
        return
    document = bulk_document(result, lambda text: redact(text, settings.secrets))
    _emit(as_json, document, render_bulk(document, verb))
    if document["failed"]:
        click.get_current_context().exit(EXIT_FAILURE)


@click.command("bulk-update", epilog=EXIT_CODES_HELP)
@selection_options
@update_field_options
@json_option
def bulk_update_command(
    webhook_ids: tuple[str, ...],
    match_url: str | None,
    match_name: str | None,
    dry_run: bool,
    yes: bool,
    concurrency: int,
    fail_fast: bool,
    as_json: bool,
    **raw: Any,
) -> None:
    """Apply the same update to many webhooks, chosen by id or by glob.

    \b
    Example:
      lettr-webhooks bulk-update --match-url 'https://staging.*' --disable --dry-run
    """
    settings = get_settings()
    fields = _validate_update(settings, _update_fields(settings, raw))
    result = _run_bulk(
        settings,
        as_json,
        (webhook_ids, match_url, match_name),
        lambda chosen: update_preview(chosen, fields),
        "update",
        "Updating webhooks",
        lambda client, chosen, progress: _same_fields_for_all(
            client.webhooks.update_many(
                {w.id: cast("WebhookUpdateFields", fields) for w in chosen},
                concurrency=concurrency,
                fail_fast=fail_fast,
                on_progress=progress,
            )
        ),
        dry_run,
        yes,
    )
    _finish_bulk(settings, as_json, result, "Updated")


@click.command("bulk-delete", epilog=EXIT_CODES_HELP)
@selection_options
@json_option
def bulk_delete_command(
    webhook_ids: tuple[str, ...],
    match_url: str | None,
    match_name: str | None,
    dry_run: bool,
    yes: bool,
    concurrency: int,
    fail_fast: bool,
    as_json: bool,
) -> None:
    """Delete many webhooks, chosen by id or by glob.

    \b
    Example:
      lettr-webhooks bulk-delete --match-name 'tmp-*' --dry-run
    """
    settings = get_settings()
    result = _run_bulk(
        settings,
        as_json,
        (webhook_ids, match_url, match_name),
        delete_preview,
        "delete",
        "Deleting webhooks",
        lambda client, chosen, progress: client.webhooks.delete_many(
            [w.id for w in chosen],
            concurrency=concurrency,
            fail_fast=fail_fast,
            on_progress=progress,
        ),
        dry_run,
        yes,
    )
    _finish_bulk(settings, as_json, result, "Deleted")


@click.command("demo")
def demo_command() -> None:
    """Walk the whole webhook lifecycle against an in-process fake server.

    Needs no API key and no network; the same as `python -m lettr_async demo`.
    """
    from ._demo import main as demo_main

    code = demo_main([])
    if code:
        click.get_current_context().exit(code)
