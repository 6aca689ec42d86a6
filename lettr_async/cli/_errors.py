"""Exit codes and the error messages of ``lettr-webhooks``.

Every failure ends as a ``CliError`` (a ``click.ClickException``), so click
prints it to stderr and exits with its code, both in a real terminal and
under ``CliRunner``. Secret values the user passed are masked in every line
(whole values of at least ``MIN_SECRET_LENGTH`` characters), and control
characters are escaped: a message keeps its own line breaks (one line per
problem of a file), while text from the server is escaped whole, newlines
included, so it can never start a line of its own.

With ``--json`` a failure is instead one JSON document on **stdout**
(``error_document``): ``{"error": {"message": ..., "exit_code": ..., ...}}``,
so a script reading stdout always gets exactly one JSON document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import click

from .. import (
    APIConnectionError,
    APIStatusError,
    LettrError,
    UnexpectedResponseError,
    ValidationError,
)
from ._output import terminal_safe

__all__ = [
    "EXIT_API",
    "EXIT_FAILURE",
    "EXIT_NETWORK",
    "EXIT_OK",
    "EXIT_USAGE",
    "EXIT_CODES_HELP",
    "MIN_SECRET_LENGTH",
    "CliError",
    "describe",
    "error_document",
    "exit_code_for",
    "from_lettr_error",
    "redact",
]

EXIT_OK = 0
"""Success."""
EXIT_FAILURE = 1
"""Any other failure, an aborted confirmation, or a bulk run where some items failed."""
EXIT_USAGE = 2
"""Bad command line, or arguments the SDK rejected locally (nothing was sent)."""
EXIT_API = 3
"""The API answered with an error (4xx/5xx, including a server-side 422)."""
EXIT_NETWORK = 4
"""The API could not be reached, or did not answer in time."""

EXIT_CODES_HELP = (
    "\b\nExit codes:\n"
    "  0  success\n"
    "  1  other failure, aborted confirmation, or some bulk items failed\n"
    "  2  usage error, or invalid arguments caught locally (nothing sent)\n"
    "  3  the API answered with an error (4xx/5xx, server-side 422)\n"
    "  4  network error or timeout"
)
"""The exit-code table shown in ``--help`` epilogs."""

_MASK = "***"
MIN_SECRET_LENGTH = 8
"""Shorter values are never masked: replacing ``k`` would mangle every word with a k."""


class CliError(click.ClickException):
    """A failure reported as one ``error: ...`` line on stderr, with an exit code.

    ``details`` are extra, secret-free facts for the ``--json`` error
    document (``type``, ``status_code``, ``error_code``, ``request_id``,
    ``fields``).
    """

    def __init__(
        self,
        message: str,
        exit_code: int = EXIT_FAILURE,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click types it ClassVar
        self.details: dict[str, Any] = dict(details or {})

    def show(self, file: object = None) -> None:
        """Print ``error: <message>`` to stderr: control characters escaped, lines kept."""
        lines = self.format_message().split("\n")
        click.echo("error: " + "\n".join(terminal_safe(line) for line in lines), err=True)


def error_document(exc: click.ClickException | click.Abort) -> dict[str, Any]:
    """The ``--json`` document for a failure: message, exit code and details."""
    if isinstance(exc, click.Abort):
        return {"error": {"message": "aborted", "exit_code": EXIT_FAILURE, "type": "Aborted"}}
    error: dict[str, Any] = {"message": exc.format_message(), "exit_code": exc.exit_code}
    if isinstance(exc, CliError):
        error.update(exc.details)
    elif isinstance(exc, click.UsageError):
        error["type"] = "UsageError"
    return {"error": error}


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every secret value in ``text`` with ``***`` (whatever its length).

    Values shorter than ``MIN_SECRET_LENGTH`` are not secrets worth the
    damage (``--api-key k`` would turn "network" into "networ***").
    """
    long_enough = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
    for secret in sorted(long_enough, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    return text


def _field_errors(errors: dict[str, list[str]]) -> str:
    return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())


def describe(exc: LettrError) -> str:
    """One line describing an SDK error, without the ``error:`` prefix."""
    if isinstance(exc, ValidationError):
        details = _field_errors(exc.errors)
        if exc.status_code is None:
            return f"invalid arguments: {details}" if details else f"invalid arguments: {exc}"
        head = f"{exc.status_code} validation_error: {exc.message}"
        return f"{head}: {details}" if details else head
    if isinstance(exc, APIStatusError):
        return f"API error {exc}"
    if isinstance(exc, APIConnectionError):
        return f"network error: {exc}"
    return str(exc)


def exit_code_for(exc: LettrError) -> int:
    """The exit status for an SDK error (see ``EXIT_CODES_HELP``)."""
    if isinstance(exc, ValidationError):
        return EXIT_USAGE if exc.status_code is None else EXIT_API
    if isinstance(exc, (APIStatusError, UnexpectedResponseError)):
        return EXIT_API
    if isinstance(exc, APIConnectionError):
        return EXIT_NETWORK
    return EXIT_FAILURE


def from_lettr_error(exc: LettrError, secrets: Iterable[str | None] = ()) -> CliError:
    """Turn an SDK error into the ``CliError`` to raise, secrets masked."""
    secrets = list(secrets)
    details: dict[str, Any] = {"type": type(exc).__name__}
    for name in ("status_code", "error_code", "request_id"):
        value = getattr(exc, name, None)
        if value is None or isinstance(value, (int, str)):
            details[name] = redact(value, secrets) if isinstance(value, str) else value
    if isinstance(exc, ValidationError) and exc.errors:
        details["fields"] = {
            field: [redact(message, secrets) for message in messages]
            for field, messages in exc.errors.items()
        }
    return CliError(terminal_safe(redact(describe(exc), secrets)), exit_code_for(exc), details)
