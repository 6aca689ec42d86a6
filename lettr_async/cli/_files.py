"""Writing the files commands produce, never through a symbolic link.

``export -o`` creates its file or refuses (``O_CREAT | O_EXCL``: an existing
path, a dangling symbolic link included, is never written). ``plan -out``
may replace an earlier plan, but only a regular file, and atomically (a
temporary file renamed over it), so a link planted at that path never
redirects the write to its target.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from ._errors import EXIT_FAILURE, EXIT_USAGE, CliError

__all__ = ["create_new", "replace_regular"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def create_new(path: Path, text: str) -> None:
    """Write ``text`` to a new file at ``path``; refuse if anything is there already."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
    except FileExistsError:
        raise CliError(f"{path} exists; not overwriting it", EXIT_USAGE) from None
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def replace_regular(path: Path, text: str) -> None:
    """Write ``text`` at ``path`` atomically; refuse when ``path`` is a link or not a file."""
    with contextlib.suppress(FileNotFoundError):
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            raise CliError(f"{path} is a symbolic link; not writing through it", EXIT_USAGE)
        if not stat.S_ISREG(mode):
            raise CliError(f"{path} is not a regular file; not replacing it", EXIT_USAGE)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException as exc:
        Path(temp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _cannot_write(path, exc) from None
        raise


def _cannot_write(path: Path, exc: OSError) -> CliError:
    return CliError(f"cannot write {path}: {exc.strerror or type(exc).__name__}", EXIT_FAILURE)
