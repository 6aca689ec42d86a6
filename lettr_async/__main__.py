"""``python -m lettr_async``: the ``lettr-webhooks`` command line.

``python -m lettr_async demo`` runs the demo with the core install alone;
every other command needs the ``cli`` extra (click), and says so in one line
when it is missing. Both behaviours live in ``lettr_async.cli.main``, shared
with the ``lettr-webhooks`` script.
"""

import sys

from .cli import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main(prog_name="python -m lettr_async"))
