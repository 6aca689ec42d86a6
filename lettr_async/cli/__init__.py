"""``lettr-webhooks``: manage Lettr webhook endpoints from a terminal.

Needs the ``cli`` extra (``pip install 'lettr-async[cli]'``, which adds
click), except ``lettr-webhooks demo``, which runs on the core install.
Importing this package does not import click; calling ``main()`` does, and
prints a one-line hint instead of a traceback when click is missing.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["CLI_HINT", "main"]

CLI_HINT = (
    "error: this command needs the optional command-line extra: "
    "pip install 'lettr-async[cli]' (the demo works without it)"
)
"""What ``main()`` prints when click is not installed."""


def _has_click() -> bool:
    try:
        import click  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv: Sequence[str] | None = None, prog_name: str = "lettr-webhooks") -> int:
    """Run ``lettr-webhooks`` with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    ``demo`` is dispatched before click is imported, so the guided tour its
    own help recommends works without the ``cli`` extra; any other command
    without click prints ``CLI_HINT`` and returns 2.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "demo":
        from ._demo import main as demo_main

        return demo_main(args[1:], prog=f"{prog_name} demo")
    if not _has_click():
        print(CLI_HINT, file=sys.stderr)
        return 2
    from ._app import main as run

    return run(args, prog_name=prog_name)
