"""What every command shares: global settings and running one client call.

Each command invocation builds exactly one ``AsyncLettr`` inside one
``asyncio.run`` (a bulk command lists, previews and writes with the same client,
so its rate limiter keeps what it learned) and closes it before returning,
whatever happened; SDK errors become ``CliError`` with the right exit code
and secrets masked. Only the public API of ``lettr_async`` is used; option
defaults are read from the client's own signatures, so they cannot drift.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import click

from .. import API_KEY_ENV, AsyncLettr, AsyncWebhooks, LettrError
from ._errors import EXIT_USAGE, CliError, from_lettr_error

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

__all__ = [
    "Settings",
    "client_default",
    "concurrency_option",
    "get_settings",
    "progress_bar",
    "resolve_secret",
    "run_client",
    "stderr_is_tty",
    "require_answerable",
    "stdin_is_tty",
]

T = TypeVar("T")


def client_default(parameter: str) -> Any:
    """``AsyncLettr``'s default for ``parameter``, which the matching option shows."""
    return inspect.signature(AsyncLettr).parameters[parameter].default


concurrency_option = click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=inspect.signature(AsyncWebhooks.update_many).parameters["concurrency"].default,
    show_default=True,
    help="Requests in flight at once (the rate limit still applies).",
)
"""``--concurrency`` of every bulk command, defaulting to the SDK's own bulk default."""


@attrs.define
class Settings:
    """Global options, stored on the click context as ``ctx.obj``."""

    api_key: str | None = None
    base_url: str | None = None
    timeout: float | None = client_default("timeout")
    max_retries: int = client_default("max_retries")
    rate_limit: float | None = client_default("rate_limit")
    json: bool = False
    secrets: list[str] = attrs.field(factory=list)

    def remember_secret(self, value: str | None) -> None:
        """Mask ``value`` in every error line from now on."""
        if value:
            self.secrets.append(value)

    def key(self) -> str:
        """The API key from ``--api-key`` or ``$LETTR_API_KEY``; a usage error if neither."""
        key = self.api_key if self.api_key is not None else os.environ.get(API_KEY_ENV)
        if not key or not key.strip():
            raise CliError(f"no Lettr API key: pass --api-key or set {API_KEY_ENV}", EXIT_USAGE)
        self.remember_secret(key.strip())
        return key.strip()


def get_settings() -> Settings:
    """The current command's ``Settings`` (a default one outside a group)."""
    ctx = click.get_current_context()
    settings = ctx.find_object(Settings)
    if settings is None:
        settings = ctx.ensure_object(Settings)
    return settings


def run_client(settings: Settings, call: Callable[[AsyncLettr], Awaitable[T]]) -> T:
    """Run ``call(client)`` with one fresh client in a fresh event loop; map SDK errors.

    ``call`` may make several requests (list, then a bulk update): they all
    share the client, its connections and its rate limiter.
    """
    api_key = settings.key()

    async def main() -> T:
        client = AsyncLettr(
            api_key,
            base_url=settings.base_url,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
            rate_limit=settings.rate_limit,
        )
        async with client:
            return await call(client)

    try:
        return asyncio.run(main())
    except LettrError as exc:
        raise from_lettr_error(exc, settings.secrets) from None


def stderr_is_tty() -> bool:
    """True when stderr is an interactive terminal (progress bars, prompts)."""
    return _is_tty(sys.stderr)


def stdin_is_tty() -> bool:
    """True when stdin is an interactive terminal, so a question can be answered."""
    return _is_tty(sys.stdin)


def require_answerable(command: str, yes: bool) -> None:
    """Refuse, before any request, a command that would ask a question nobody can answer.

    Without a terminal on stdin (cron, CI, a pipe) click's prompt reads end of
    file and prints a bare "Aborted!": say instead what to pass.
    """
    if not yes and not stdin_is_tty():
        raise CliError(
            f"{command} asks before changing anything, but stdin is not a terminal: "
            "pass --yes to go ahead without asking (nothing was sent)",
            EXIT_USAGE,
        )


def _is_tty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr, open for the block; yields the ``on_progress`` to pass.

    Bulk calls report ``(done, total)``; the bar advances by the difference,
    so every bulk command (and ``apply``) draws it the same way.
    """
    bar: ProgressBar[int] = click.progressbar(length=total, label=label, file=sys.stderr)
    shown = 0

    def on_progress(done: int, _total: int) -> None:
        nonlocal shown
        bar.update(done - shown)
        shown = done

    with bar:
        yield on_progress


def resolve_secret(
    settings: Settings,
    value: str | None,
    *,
    envvar: str,
    needed: bool,
    prompt: str,
    required: str | None = None,
) -> str | None:
    """A secret from its option, else (when ``needed``) its env var, else a hidden prompt.

    The prompt only appears when stdin is a terminal. ``required`` names the
    option when the call cannot go without it: a usage error then says the
    three ways to give it (option, environment variable, terminal).
    """
    if value is None and needed:
        value = os.environ.get(envvar) or None
        if value is None and stdin_is_tty():
            value = click.prompt(prompt, hide_input=True, err=True)
        if value is None and required is not None:
            raise CliError(
                f"{required} is required: pass it, set ${envvar}, "
                "or run on a terminal to be asked for it",
                EXIT_USAGE,
            )
    settings.remember_secret(value)
    return value
