"""The Django receiver on a core install: a hint naming the extra, not a bare ModuleNotFoundError.

A fresh interpreter hides Django with a ``sys.meta_path`` finder, as if the
``django`` extra were not installed.
"""

from __future__ import annotations

import json

from tests.helpers import run_python

HIDE_DJANGO = """
import importlib.abc, json, sys

class HideDjango(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "django":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, HideDjango())
"""


def test_importing_the_django_receiver_without_django_names_the_extra() -> None:
    script = HIDE_DJANGO + (
        "import lettr_async.events, lettr_sync.events\n"  # the core needs no Django
        "try:\n"
        "    import lettr_async.events.django\n"
        "except ImportError as exc:\n"
        "    print(json.dumps([type(exc).__name__, exc.name, str(exc)]))\n"
    )
    done = run_python(script)
    assert done.returncode == 0, done.stderr
    kind, name, message = json.loads(done.stdout)
    assert kind == "ModuleNotFoundError"  # still caught by `except ModuleNotFoundError`
    assert name == "django"
    assert "pip install 'lettr-async[django]'" in message
    assert "lettr_async.events.django" in message


def test_the_traceback_a_user_sees_ends_with_the_hint() -> None:
    done = run_python(HIDE_DJANGO + "import lettr_async.events.django\n")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: lettr_async.events.django needs Django")
    assert last.endswith("pip install 'lettr-async[django]'")
