"""Developer sessions: tests on every Python found, floors, lint, typecheck, codegen, sdist, docs.

``nox`` runs tests, floors, lint, typecheck, the generator check and the
sdist check; ``nox -s bench``, ``nox -s bench_instructions``, ``nox -s demo``,
``nox -s docs`` and ``nox -s docs_serve`` run on demand. Lint and type-check tools come from the
``dev`` dependency group (PEP 735), never from a published extra.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import nox

nox.options.sessions = ["tests", "floors", "lint", "typecheck", "generate_check", "sdist"]
nox.options.reuse_existing_virtualenvs = True
nox.options.download_python = "never"

ALL_PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


def _find_interpreter(version: str) -> str | None:
    """A working ``pythonX.Y`` on PATH, else one installed by pyenv.

    pyenv's shims exist for every installed version but only run the active
    one, so each candidate is tried rather than trusted.
    """
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    pattern = f"{pyenv_root}/versions/{version}.*/bin/python{version}"
    candidates = [*sorted(glob.glob(pattern)), shutil.which(f"python{version}")]
    for candidate in candidates:
        if (
            candidate
            and subprocess.run(
                [candidate, "-c", "pass"], capture_output=True, check=False
            ).returncode
            == 0
        ):
            return candidate
    return None


# Only the interpreters present on this machine: a missing one is not a failure.
PYTHONS = [p for p in (_find_interpreter(v) for v in ALL_PYTHONS) if p] or None
PYPROJECT = nox.project.load_toml("pyproject.toml")
DEV = nox.project.dependency_groups(PYPROJECT, "dev")
FLOORS = "constraints/floors.txt"


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The whole test suite, warnings as errors (see pyproject.toml)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=PYTHONS)
def floors(session: nox.Session) -> None:
    """The whole suite with every dependency at its declared minimum (constraints/floors.txt).

    Proves the ``>=`` bounds in pyproject.toml: a floor that is too low fails
    here. On every Python found, because old releases break differently per
    Python (aiohttp < 3.10.8 hangs in server shutdown on 3.11 but not 3.10).
    """
    session.install("-c", FLOORS, "-e", ".[test]")
    session.run("python", "-m", "pip", "check")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install(*DEV)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over both packages, the tests (tests/typing too), benchmarks, this file."""
    session.install("-e", ".[test]", *DEV)
    session.run("mypy", "--strict")


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate lettr_sync from lettr_async's resources."""
    session.install("-e", ".[test]", *DEV)
    session.run("python", "-m", "tools.sync_codegen")


@nox.session
def generate_check(session: nox.Session) -> None:
    """Fail when the checked-in generated sync code is stale."""
    session.install("-e", ".[test]", *DEV)
    session.run("python", "-m", "tools.sync_codegen", "--check")


@nox.session
def sdist(session: nox.Session) -> None:
    """Build the sdist, unpack it, and run its own tests: it must ship all they import."""
    session.install("-e", ".[test]", *DEV)
    tmp = Path(session.create_tmp())
    shutil.rmtree(tmp / "dist", ignore_errors=True)
    session.run("python", "-m", "build", "--sdist", "--outdir", str(tmp / "dist"))
    (archive,) = (tmp / "dist").glob("*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp / "dist", filter="data")
    (unpacked,) = (p for p in (tmp / "dist").iterdir() if p.is_dir())
    with session.chdir(unpacked):
        # `python -m` puts the unpacked tree first on sys.path, ahead of the editable install.
        session.run("python", "-m", "pytest", "-q", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against Lettr's own SDK and bare aiohttp (writes benchmarks/results/)."""
    session.install("-e", ".[bench]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def bench_instructions(session: nox.Session) -> None:
    """Instructions per ``webhooks.get`` call under valgrind (needs ``valgrind`` on PATH)."""
    session.install("-e", ".[bench]")
    session.run("python", "-m", "benchmarks.instructions", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The README's first command: the lifecycle against the embedded fake server."""
    session.install(".")
    session.run("python", "-m", "lettr_async", "demo")


# mkdocs-material prints a banner about its future on every build; it is not a warning
# about these docs, and --strict ignores it anyway.
_QUIET_MKDOCS = {"NO_MKDOCS_2_WARNING": "1"}


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site strictly (any warning fails), offline, into site/."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", *session.posargs, env=_QUIET_MKDOCS)


@nox.session
def docs_serve(session: nox.Session) -> None:
    """Serve the documentation at http://127.0.0.1:8000 with live reload."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "serve", *session.posargs, env=_QUIET_MKDOCS)
