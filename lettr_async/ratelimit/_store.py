"""Where the limiter keeps its state: the ``RateStore`` interface and URL parsing.

The default store lives in the process. A shared store (SQLite for one host,
Redis or Valkey for many) lets every process of a team pace to the one
budget Lettr grants the team. Each store runs the same GCRA step
(``take_slot``) atomically and answers *when* the caller may start, so a
waiter sleeps once instead of polling.
"""

from __future__ import annotations

import abc
import os
from urllib.parse import urlsplit

from ..errors import ValidationError
from ._gcra import PacingState, Slot, TakeRequest, relearn, take_slot

__all__ = ["RATE_LIMIT_URL_ENV", "MemoryStore", "RateStore", "open_store", "team_key"]

RATE_LIMIT_URL_ENV = "LETTR_RATE_LIMIT_URL"


class RateStore(abc.ABC):
    """The state behind a ``RateLimiter``, possibly shared between processes.

    Subclass it to keep the budget somewhere else; ``key`` names the team's
    state (None: the client derives it from a hash of its API key and base
    URL, so two clients of one team share it and the key cannot be read back).
    """

    shared: bool = True
    """False only for the in-process store: no warning about other processes then."""

    def __init__(self, *, key: str | None = None) -> None:
        """Remember an explicit ``key``, or None to let the client derive one."""
        self.key = key

    @abc.abstractmethod
    async def take(self, request: TakeRequest) -> Slot:
        """Run one GCRA step for ``request`` atomically on this team's state.

        A store of your own keeps one ``PacingState`` per ``key`` (None before
        the first take) and runs ``take_slot(state, now, request)`` on it,
        saving the new state and returning the ``Slot``. The step must be
        atomic across every process sharing the state (a lock, a
        transaction, compare-and-set), or two of them could book the same
        slot; ``now`` comes from one clock they all share.
        """

    async def aclose(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections; the limiter calls it when its client closes."""


class MemoryStore(RateStore):
    """The state in this process only: today's behaviour, and the fallback of the shared stores."""

    shared = False

    def __init__(self, clock: object = None, *, key: str | None = None) -> None:
        """Keep the state in a dict; ``clock`` (monotonic by default) times it."""
        import time

        super().__init__(key=key)
        self._clock = clock if callable(clock) else time.monotonic
        self._states: dict[str | None, PacingState] = {}

    def take_now(self, request: TakeRequest) -> Slot:
        """The synchronous step: nothing to wait for in memory."""
        state, slot = take_slot(self._states.get(self.key), self._clock(), request)
        self._states[self.key] = state
        return slot

    def learn(self, interval: float) -> None:
        """Adopt a learned budget at once, so local estimates use it before the next take."""
        state = self._states.get(self.key)
        if state is not None:
            self._states[self.key] = relearn(state, self._clock(), interval)

    async def take(self, request: TakeRequest) -> Slot:
        """See ``take_now``."""
        return self.take_now(request)


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
    if option is None:
        option = os.environ.get(RATE_LIMIT_URL_ENV) or None
        field = RATE_LIMIT_URL_ENV
    else:
        field = "rate_limit_store"
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
