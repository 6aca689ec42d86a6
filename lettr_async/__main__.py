"""``python -m lettr_async``: the ``lettr-webhooks`` command line.

``python -m lettr_async demo`` runs the demo with the core install alone;
every other command needs the ``cli`` extra (click), and says so in one line
when it is missing.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

PROG = "python -m lettr_async"
CLI_HINT = (
    "error: this command needs the optional command-line extra: pip install 'lettr-async[cli]'"
)


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``demo`` directly, everything else to the click CLI; return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "demo":
        from .demo import main as demo_main

        return demo_main(args[1:], prog=f"{PROG} demo")
    try:
        import click  # noqa: F401
    except ImportError:
        print(CLI_HINT, file=sys.stderr)
        return 2
    from .cli import main as cli_main

    return cli_main(args, prog_name=PROG)


if __name__ == "__main__":
    sys.exit(main())
