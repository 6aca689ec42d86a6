"""``python -m lettr_async``: the ``lettr-webhooks`` command line.

``python -m lettr_async demo`` runs the demo with the core install alone;
every other command needs the ``cli`` extra (click), and says so in one line
when it is missing. Both behaviours live in ``lettr_async.cli.main``, shared
with the ``lettr-webhooks`` script.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .cli import CLI_HINT
from .cli import main as cli_main

__all__ = ["CLI_HINT", "PROG", "main"]

PROG = "python -m lettr_async"
"""The program name shown in help and errors."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line as ``python -m lettr_async``; return the exit code."""
    return cli_main(argv, prog_name=PROG)


if __name__ == "__main__":
    sys.exit(main())
