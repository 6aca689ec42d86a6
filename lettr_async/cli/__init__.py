"""``lettr-webhooks``: manage Lettr webhook endpoints from a terminal.

Needs the ``cli`` extra (``pip install 'lettr-async[cli]'``, which adds
click). Importing this package does not import click; calling ``main()`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None, prog_name: str = "lettr-webhooks") -> int:
    """Run ``lettr-webhooks`` with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    from ._app import main as run

    return run(argv, prog_name=prog_name)
