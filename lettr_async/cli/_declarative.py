"""``plan``, ``apply`` and ``export``: webhooks as code from the command line.

Exit codes follow Terraform where CI pipelines rely on them: ``plan
--detailed-exitcode`` exits 0 for no changes, 2 for changes and 1 for any
error. Credentials are never printed: plans show write-only markers and
every error line is scrubbed of the credential values read from the
environment.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click

from .. import AsyncLettr, LettrError, declarative
from ..declarative import (
    WRITE_ONLY_SENT,
    Action,
    ApplyResult,
    Change,
    ConfigError,
    DesiredState,
    DesiredWebhook,
    Plan,
    PlanError,
    StalePlanError,
    export_toml,
    load_config,
)
from ..models import SECRET_FIELDS, mask_url_credentials
from ._context import (
    Settings,
    concurrency_option,
    get_settings,
    progress_bar,
    require_answerable,
    run_client,
    stderr_is_tty,
)
from ._errors import EXIT_FAILURE, EXIT_USAGE, CliError, redact
from ._files import create_new, replace_regular
from ._output import terminal_safe, to_json

__all__ = ["apply_command", "export_command", "plan_command", "render_plan_text"]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_FILE = "lettr-webhooks.toml"
EXIT_CHANGES = 2
"""``plan --detailed-exitcode``: the plan has changes (Terraform's convention)."""
MAX_PLAN_BYTES = 64 * 1024 * 1024
"""The largest saved plan ``apply`` reads (a plan of many thousands of endpoints fits)."""

_SYMBOL = {
    Action.CREATE: ("+", "green"),
    Action.UPDATE: ("~", "yellow"),
    Action.DELETE: ("-", "red"),
    Action.REPLACE: ("-/+", "magenta"),
    Action.NOOP: (" ", None),
}
_EXIT_HELP = (
    "\b\nExit codes:\n"
    "  0  success (plan: no changes, or changes without --detailed-exitcode)\n"
    "  2  plan --detailed-exitcode: there are changes\n"
    "  1  any error with --detailed-exitcode; apply: stale plan, failed changes,\n"
    "     or the confirmation was declined\n"
    "  other codes as for every command (2 invalid file, refused saved plan, or apply\n"
    "  without --yes when stdin is not a terminal; 3 API error; 4 network)"
)


def _value(value: Any) -> str:
    """A field value as plan text shows it: credentials in URLs masked, controls escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return terminal_safe(mask_url_credentials(str(value)))


def _change_lines(change: Change) -> list[str]:
    symbol, colour = _SYMBOL[change.action]
    head = f"{symbol} {change.address}"
    if change.webhook_id:
        head += f"  ({change.webhook_id}, matched by {change.matched_by})"
    else:
        head += f"  (matched by {change.matched_by})"
    verb = {
        Action.CREATE: "will be created",
        Action.UPDATE: "will be updated in place",
        Action.DELETE: "will be DELETED",
        Action.REPLACE: "will be replaced (deleted, then created: its id changes)",
        Action.NOOP: "is up to date",
    }[change.action]
    lines = [
        click.style(terminal_safe(f"{head} {verb}"), fg=colour, bold=change.action is Action.DELETE)
    ]
    if change.action is Action.CREATE and change.after is not None:
        hook = change.after
        events = "all" if hook.events is None else list(hook.events)
        for label, value in (
            ("name", hook.name),
            ("url", hook.url),
            ("enabled", hook.enabled),
            ("events", events),
            ("auth_type", hook.auth_type.value),
        ):
            lines.append(f"    {label}: {_value(value)}")
        lines.extend(f"    {c.field}: {WRITE_ONLY_SENT}" for c in hook.credentials)
    elif change.action is Action.DELETE and change.before is not None:
        lines.append(f"    name: {_value(change.before.name)}")
        lines.append(f"    url: {_value(change.before.url)}")
    for field in change.fields:
        lines.append(f"    {field.field}: {_value(field.before)} -> {_value(field.after)}")
    if change.credentials_reason and change.send_credentials:
        lines.append(f"    (credentials will be sent: {change.credentials_reason})")
    return lines


def render_plan_text(plan: Plan) -> str:
    """The readable plan: deletions first and loudly, then every other change."""
    counts = plan.summary()
    lines: list[str] = []
    for count, warning in (
        (counts[Action.DELETE.value], "will be DELETED (prune)"),
        (counts[Action.REPLACE.value], "will be replaced (deleted, then created: ids change)"),
    ):
        if count:
            lines.append(
                click.style(f"WARNING: {count} webhook endpoint(s) {warning}", fg="red", bold=True)
            )
    for change in plan.changes:
        if change.action is not Action.NOOP:
            lines.extend(_change_lines(change))
    unchanged = counts[Action.NOOP.value]
    if not plan.has_changes:
        lines.append(
            f"No changes. {unchanged} webhook(s) already match {terminal_safe(plan.source)}."
        )
    else:
        lines.append(
            f"Plan: {counts['create']} to create, {counts['update']} to update, "
            f"{counts['replace']} to replace, {counts['delete']} to delete, "
            f"{unchanged} unchanged."
        )
    return "\n".join(lines)


def _load(settings: Settings, path: str) -> DesiredState:
    try:
        desired = load_config(path)
    except ConfigError as exc:
        raise _config_failure(settings, exc) from None
    _remember_secrets(settings, (hook for hook in desired.webhooks))
    return desired


def _remember_secrets(settings: Settings, hooks: Iterable[DesiredWebhook | None]) -> None:
    """Mask secrets from now on: secret credentials and passwords in URLs (``user:pass@``).

    User names, client ids and token URLs are not secrets: masking them would
    mangle ordinary words and file names.
    """
    for hook in hooks:
        if hook is None:
            continue
        with contextlib.suppress(ValueError):
            settings.remember_secret(urlsplit(hook.url).password)
        for credential in hook.credentials:
            if credential.field in SECRET_FIELDS:
                settings.remember_secret(credential.value)


def _config_failure(settings: Settings, exc: ConfigError | PlanError) -> CliError:
    """One line per problem, each escaped (names and ids may come from the server)."""
    lines = [terminal_safe(exc.message)]
    lines.extend(
        f"  {terminal_safe(key)}: {terminal_safe(message)}"
        for key, messages in exc.errors.items()
        for message in messages
    )
    return CliError(redact("\n".join(lines), settings.secrets), EXIT_USAGE)


def _plan(settings: Settings, desired: DesiredState, prune: bool, rotate: Sequence[str]) -> Plan:
    rotating: bool | list[str] = True if "*" in rotate else list(rotate)

    async def make(client: AsyncLettr) -> Plan | PlanError:
        try:
            return await declarative.plan(client, desired, prune=prune, rotate=rotating)
        except PlanError as exc:  # shown in full, one line per problem
            return exc

    result = run_client(settings, make)
    if isinstance(result, PlanError):
        raise _config_failure(settings, result)
    return result


def _file_option(func: F) -> F:
    return click.option(
        "-f",
        "--file",
        "config",
        default=DEFAULT_FILE,
        show_default=True,
        type=click.Path(dir_okay=False),
        help="The webhooks file (TOML).",
    )(func)


def _plan_options(func: F) -> F:
    func = click.option(
        "--rotate",
        multiple=True,
        metavar="NAME|URL",
        help="Send this entry's credentials even if unchanged ('*' for all). Repeatable.",
    )(func)
    return click.option(
        "--prune",
        is_flag=True,
        help="Also delete endpoints inside the file's [ownership] scope that it omits.",
    )(func)


def _json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")(func)


@click.command("plan", epilog=_EXIT_HELP)
@_file_option
@_plan_options
@_json_option
@click.option(
    "-out",
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    help="Also save the plan (JSON) to this file, for `apply PLAN_FILE`.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 for no changes, 2 for changes, 1 for errors (like terraform plan).",
)
def plan_command(
    config: str,
    prune: bool,
    rotate: tuple[str, ...],
    as_json: bool,
    out: str | None,
    detailed_exitcode: bool,
) -> None:
    """Show what `apply` would change to make Lettr match the webhooks file.

    Sends one request (the list of webhooks) and changes nothing.

    \b
    Example:
      lettr-webhooks plan -f lettr-webhooks.toml -out plan.json --detailed-exitcode
    """
    settings = get_settings()
    try:
        plan = _plan(settings, _load(settings, config), prune, rotate)
        if out is not None:
            replace_regular(Path(out), to_json(plan.to_dict()) + "\n")
    except CliError as exc:
        if not detailed_exitcode:
            raise
        raise CliError(exc.message, EXIT_FAILURE) from None
    if as_json or settings.json:
        click.echo(to_json(plan.to_dict()))
    else:
        click.echo(render_plan_text(plan))
        if out is not None:
            click.echo(f"Saved the plan to {out}; apply it with: lettr-webhooks apply {out}")
    if detailed_exitcode and plan.has_changes:
        click.get_current_context().exit(EXIT_CHANGES)


@click.command("apply", epilog=_EXIT_HELP)
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, exists=True))
@_file_option
@_plan_options
@_json_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@concurrency_option
def apply_command(
    plan_file: str | None,
    config: str,
    prune: bool,
    rotate: tuple[str, ...],
    as_json: bool,
    yes: bool,
    concurrency: int,
) -> None:
    """Make Lettr match the webhooks file: show the plan, ask, then apply it.

    With PLAN_FILE (saved by `plan -out`), apply exactly that plan without
    asking; it is refused if the live webhooks changed since it was made.

    \b
    Examples:
      lettr-webhooks apply -f lettr-webhooks.toml
      lettr-webhooks plan -out plan.json && lettr-webhooks apply plan.json
    """
    settings = get_settings()
    wants_json = as_json or settings.json
    if plan_file is not None and (prune or rotate):
        raise click.UsageError("--prune and --rotate shape a new plan; a saved plan applies as is")
    if plan_file is None:
        require_answerable("apply", yes)
    if plan_file is not None:
        plan = _load_plan(settings, Path(plan_file))
    else:
        plan = _plan(settings, _load(settings, config), prune, rotate)
    if not wants_json:
        click.echo(render_plan_text(plan))
    if not plan.has_changes:
        if wants_json:
            click.echo(to_json({"plan": plan.to_dict(), "apply": None}))
        return
    if plan_file is None and not yes:
        if wants_json:  # stdout is for the JSON document; show the plan beside the question
            click.echo(render_plan_text(plan), err=True)
        click.confirm(f"Apply {len(plan.pending)} change(s)?", abort=True, err=True)
    result = _run_apply(settings, plan, concurrency, show_bar=not wants_json and stderr_is_tty())
    document = result.document()
    for outcome in document["outcomes"]:
        if outcome["error"] is not None:
            outcome["error"] = redact(outcome["error"], settings.secrets)
    if wants_json:
        click.echo(to_json({"plan": plan.to_dict(), "apply": document}))
    else:
        click.echo(_render_result(document))
    if not result.ok:
        click.get_current_context().exit(EXIT_FAILURE)


@click.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the TOML to this file instead of stdout (refuses to overwrite).",
)
def export_command(output: str | None) -> None:
    """Write the webhooks file for the endpoints that exist today.

    Credentials cannot be read back from Lettr: they are written as env
    references ({ env = "..." }) to set before the first apply.

    \b
    Example:
      lettr-webhooks export -o lettr-webhooks.toml
    """
    settings = get_settings()
    webhooks = run_client(settings, lambda client: client.webhooks.list())
    text = export_toml(webhooks)
    if output is None:
        click.echo(text, nl=False)
        return
    create_new(Path(output), text)
    click.echo(f"Wrote {len(webhooks)} webhook(s) to {output}.", err=True)


def _load_plan(settings: Settings, path: Path) -> Plan:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PLAN_BYTES + 1)
        if len(data) > MAX_PLAN_BYTES:
            raise CliError(f"{path} is larger than {MAX_PLAN_BYTES} bytes; not a plan", EXIT_USAGE)
        plan = Plan.from_json(data.decode("utf-8", "replace"))
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}", EXIT_USAGE) from None
    except ConfigError as exc:
        raise _config_failure(settings, exc) from None
    _remember_secrets(settings, (change.after for change in plan.changes))
    return plan


def _run_apply(settings: Settings, plan: Plan, concurrency: int, show_bar: bool) -> ApplyResult:
    total = len(plan.pending)

    def call(on_progress: Callable[[int, int], None] | None) -> ApplyResult:
        async def go(client: AsyncLettr) -> ApplyResult | LettrError:
            try:
                return await declarative.apply(
                    client, plan, concurrency=concurrency, on_progress=on_progress
                )
            except (StalePlanError, ConfigError, PlanError) as exc:  # refused: nothing sent
                return exc

        result = run_client(settings, go)
        if isinstance(result, StalePlanError):
            raise CliError(terminal_safe(redact(str(result), settings.secrets)), EXIT_FAILURE)
        if isinstance(result, (ConfigError, PlanError)):
            raise _config_failure(settings, result)
        assert isinstance(result, ApplyResult)
        return result

    if not show_bar:
        return call(None)
    with progress_bar("Applying", total) as on_progress:
        return call(on_progress)


def _render_result(document: dict[str, Any]) -> str:
    lines = []
    for outcome in document["outcomes"]:
        verb = "+".join(outcome["actions"])
        where = f"{outcome['address']} ({outcome['id']})" if outcome["id"] else outcome["address"]
        if outcome["ok"]:
            note = " (adopted after a lost answer)" if outcome["adopted"] else ""
            lines.append(terminal_safe(f"  ok      {verb:<13} {where}{note}"))
        else:
            failed = terminal_safe(f"  FAILED  {verb:<13} {where}: {outcome['error']}")
            lines.append(click.style(failed, fg="red"))
    summary = f"Apply: {document['applied']} change(s) applied"
    summary += f", {document['failed']} failed." if document["failed"] else "."
    lines.append(summary)
    if document["failed"]:
        lines.append("Run apply again: it picks up where this one stopped.")
    return "\n".join(lines)
