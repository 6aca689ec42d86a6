"""The lock file: salted fingerprints of the credentials last sent, never the credentials.

Lettr never returns credentials, so a plan cannot see whether the stored ones
match the file. The lock file remembers, per webhook id, a slow salted hash
(PBKDF2-HMAC-SHA256, a fresh random salt per entry) of the credentials the
last apply sent; a plan sends credentials again only when that fingerprint no
longer matches. A lost or deleted lock file is harmless: credentials are then
sent once more.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from ._config import CredentialValue
from ._errors import ConfigError

__all__ = ["LockEntry", "LockFile", "fingerprint_credentials"]

LOCK_VERSION = 1
_ITERATIONS = 20_000


@attrs.frozen
class LockEntry:
    """What the lock keeps for one webhook id: auth type, salt and digest (hex)."""

    auth_type: str
    salt: str
    digest: str

    def matches(self, auth_type: str, credentials: Iterable[CredentialValue]) -> bool:
        """True when ``credentials`` hash to this entry's digest under its salt."""
        if auth_type != self.auth_type:
            return False
        expected = _digest(bytes.fromhex(self.salt), auth_type, credentials)
        return hmac.compare_digest(expected, self.digest)


def fingerprint_credentials(auth_type: str, credentials: Iterable[CredentialValue]) -> LockEntry:
    """A new salted fingerprint of ``credentials`` (a fresh random salt each time)."""
    salt = secrets.token_bytes(16)
    return LockEntry(auth_type, salt.hex(), _digest(salt, auth_type, credentials))


def _digest(salt: bytes, auth_type: str, credentials: Iterable[CredentialValue]) -> str:
    canonical = json.dumps(
        [auth_type, sorted((c.field, c.value) for c in credentials)], separators=(",", ":")
    )
    return hashlib.pbkdf2_hmac("sha256", canonical.encode(), salt, _ITERATIONS).hex()


@attrs.define
class LockFile:
    """The fingerprints of one config file, keyed by webhook id; load, edit, save."""

    path: Path | None
    entries: dict[str, LockEntry] = attrs.field(factory=dict)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None) -> LockFile:
        """Read ``path``; a missing file is an empty lock, a corrupt one a ``ConfigError``."""
        if path is None:
            return cls(None)
        lock_path = Path(path)
        try:
            text = lock_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(lock_path)
        except OSError as exc:
            raise ConfigError(
                f"cannot read lock file {lock_path}", {str(lock_path): [exc.__class__.__name__]}
            ) from None
        try:
            document = json.loads(text)
            entries = _parse_entries(document)
        except (ValueError, TypeError, KeyError) as exc:
            raise ConfigError(
                f"lock file {lock_path} is corrupt; delete it to send credentials once more",
                {str(lock_path): [f"unreadable lock file ({exc.__class__.__name__})"]},
            ) from None
        return cls(lock_path, entries)

    def save(self) -> None:
        """Write atomically (temp file then rename), so a crash never leaves half a lock."""
        if self.path is None:
            return
        document = {
            "version": LOCK_VERSION,
            "comment": "Salted fingerprints of webhook credentials (never the credentials).",
            "webhooks": {key: attrs.asdict(entry) for key, entry in sorted(self.entries.items())},
        }
        try:
            fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        except OSError as exc:
            raise _write_error(self.path, exc) from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=2)
                handle.write("\n")
            os.replace(temp, self.path)
        except BaseException as exc:
            Path(temp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise _write_error(self.path, exc) from None
            raise


def _write_error(path: Path, exc: OSError) -> ConfigError:
    return ConfigError(
        f"cannot write lock file {path}; the next apply sends credentials once more",
        {str(path): [exc.strerror or exc.__class__.__name__]},
    )


def _parse_entries(document: Any) -> dict[str, LockEntry]:
    if not isinstance(document, Mapping) or document.get("version") != LOCK_VERSION:
        raise ValueError("not a version 1 lock file")
    raw = document["webhooks"]
    if not isinstance(raw, Mapping):
        raise TypeError("webhooks must be an object")
    entries = {}
    for webhook_id, item in raw.items():
        entry = LockEntry(str(item["auth_type"]), str(item["salt"]), str(item["digest"]))
        bytes.fromhex(entry.salt)
        entries[str(webhook_id)] = entry
    return entries
