"""The ``lettr-webhooks`` click group, its global options and ``main()``.

Commands are registered in ``COMMANDS`` (one line each); the group class
turns every failure into the ``--json`` error document when JSON output was
asked for.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from .. import API_KEY_ENV, DEFAULT_BASE_URL, __version__
from ._commands import (
    bulk_delete_command,
    bulk_update_command,
    create_command,
    delete_command,
    demo_command,
    get_command,
    list_command,
    update_command,
)
from ._context import Settings, client_default
from ._declarative import apply_command, export_command, plan_command
from ._errors import EXIT_CODES_HELP, EXIT_FAILURE, error_document
from ._events import events_command
from ._health import health_command
from ._output import to_json
from ._trigger import trigger_command

__all__ = ["COMMANDS", "LettrGroup", "cli", "main"]

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _json_requested(args: Sequence[str]) -> bool:
    """Whether ``--json`` appears among the options (before a ``--``)."""
    for arg in args:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


class LettrGroup(click.Group):
    """The command group; with ``--json``, failures print a JSON error document.

    Why a subclass: click prints errors itself (to stderr, as text) inside
    ``main``; catching them here covers usage errors, SDK errors and aborted
    confirmations alike, in a terminal and under ``CliRunner``. Exit codes
    are the same with and without ``--json``.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the CLI; report failures as JSON on stdout when ``--json`` was given."""
        argv = list(sys.argv[1:] if args is None else args)
        if not _json_requested(argv):
            return super().main(argv, prog_name, complete_var, standalone_mode, **extra)
        try:
            result = super().main(argv, prog_name, complete_var, False, **extra)
        except (click.ClickException, click.Abort) as exc:
            document = error_document(exc)
            click.echo(to_json(document))
            code = document["error"]["exit_code"]
        else:
            code = result if isinstance(result, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


@click.group(cls=LettrGroup, context_settings=_CONTEXT, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="lettr-webhooks")
@click.option(
    "--api-key",
    metavar="KEY",
    help=f"Lettr API key (default: ${API_KEY_ENV}). Never printed.",
)
@click.option(
    "--base-url",
    metavar="URL",
    help=f"API root (default: $LETTR_BASE_URL, else {DEFAULT_BASE_URL}).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=client_default("timeout"),
    show_default=True,
    help="Seconds per request.",
)
@click.option(
    "--max-retries",
    type=click.IntRange(min=0),
    default=client_default("max_retries"),
    show_default=True,
    help="Retries after a failed attempt (429, 5xx, network).",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0),
    default=client_default("rate_limit"),
    show_default=True,
    help="Client-side requests per second before the server's headers are known (0: off).",
)
@click.option("--json", "as_json", is_flag=True, help="JSON output for every command.")
@click.pass_context
def cli(
    ctx: click.Context,
    api_key: str | None,
    base_url: str | None,
    timeout: float,
    max_retries: int,
    rate_limit: float,
    as_json: bool,
) -> None:
    """Manage Lettr webhook endpoints from a terminal.

    Reads the API key from --api-key or $LETTR_API_KEY. Output is a readable
    table by default; --json prints one JSON document per command. Start with
    `lettr-webhooks demo` to see everything against a local fake server.
    """
    ctx.obj = Settings(
        api_key=api_key,
        base_url=base_url or None,
        timeout=timeout,
        max_retries=max_retries,
        rate_limit=rate_limit or None,
        json=as_json,
    )
    if api_key:
        ctx.obj.remember_secret(api_key)


COMMANDS: list[click.Command] = [
    list_command,
    get_command,
    create_command,
    update_command,
    delete_command,
    bulk_update_command,
    bulk_delete_command,
    demo_command,
    plan_command,
    apply_command,
    export_command,
    health_command,
    events_command,
    trigger_command,
]
"""Every subcommand, in help order; add new ones here (or with ``cli.add_command``)."""

for _command in COMMANDS:
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None, prog_name: str = "lettr-webhooks") -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name=prog_name)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        return code if isinstance(code, int) else EXIT_FAILURE
    return 0
