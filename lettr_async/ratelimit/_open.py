"""From the client's ``rate_limit_store`` option to a store: URL parsing and the team's key.

A module of its own because it names every backend: the backends import
``RateStore`` from ``_store``, so ``open_store`` living there made the store
module and its backends import each other.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from ..errors import ValidationError
from ._store import RateStore

__all__ = ["RATE_LIMIT_URL_ENV", "open_store", "team_key"]

RATE_LIMIT_URL_ENV = "LETTR_RATE_LIMIT_URL"


def team_key(api_key: str, base_url: str) -> str:
    """A stable, non-reversible name for one team's budget on one API."""
    import hashlib  # only clients with a shared store need it

    digest = hashlib.sha256(f"{base_url}\0{api_key}".encode()).hexdigest()[:32]
    return f"lettr:ratelimit:{digest}"


def open_store(option: str | RateStore | None, *, api_key: str, base_url: str) -> RateStore | None:
    """Resolve the client's ``rate_limit_store`` option (then ``$LETTR_RATE_LIMIT_URL``).

    A URL picks the backend: ``sqlite:///absolute/path.db`` (one host),
    ``redis://``, ``rediss://`` or ``unix://`` (many hosts). None and no
    environment variable: None, the in-process state. Nothing connects here;
    the first request does.
    """
    field = "rate_limit_store"
    if option is None:
        option, field = os.environ.get(RATE_LIMIT_URL_ENV) or None, RATE_LIMIT_URL_ENV
    if option is None:
        return None
    if isinstance(option, RateStore):
        store = option
    elif isinstance(option, str):
        store = _from_url(option.strip(), field)
    else:
        raise ValidationError(
            "rate_limit_store must be a URL or a RateStore",
            errors={"rate_limit_store": ["must be a URL string or a RateStore instance."]},
        )
    if store.key is None:
        store.key = team_key(api_key, base_url)
    return store


def _from_url(url: str, field: str) -> RateStore:
    scheme = urlsplit(url).scheme.lower()
    if scheme == "sqlite":
        from ._sqlite import SQLiteStore

        path = url[len("sqlite://") :]
        if not path.startswith("/") or path == "/":
            raise ValidationError(
                f"{field} must be sqlite:///absolute/path/budget.db",
                errors={field: ["a sqlite URL needs an absolute file path (three slashes)."]},
            )
        return SQLiteStore(path)
    if scheme in ("redis", "rediss", "unix"):
        from ._redis import RedisStore

        return RedisStore(url)
    shown = scheme or "(none)"
    raise ValidationError(
        f"{field} has an unsupported scheme {shown!r}",
        errors={field: ["must be a sqlite:///, redis://, rediss:// or unix:// URL."]},
    )
