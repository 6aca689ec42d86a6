"""Where the limiter keeps its state: the ``RateStore`` interface and the in-process store.

The default store lives in the process. A shared store (SQLite for one host,
Redis or Valkey for many) lets every process of a team pace to the one
budget Lettr grants the team. Each store runs the same GCRA step
(``take_slot``) atomically and answers *when* the caller may start, so a
waiter sleeps once instead of polling.
"""

from __future__ import annotations

import abc

from ._gcra import PacingState, Slot, TakeRequest, relearn, take_if_free, take_slot

__all__ = ["STORE_FIRST_TIMEOUT", "STORE_TIMEOUT", "MemoryStore", "RateStore"]

# Every shared-store operation must answer within this, or the limiter paces locally.
STORE_TIMEOUT = 0.5
# ... except a process's very first one, which also connects (and loads the
# Redis script): on a busy host, eight processes starting at once need more.
STORE_FIRST_TIMEOUT = 2.0


class RateStore(abc.ABC):
    """The state behind a ``RateLimiter``, possibly shared between processes.

    Subclass it to keep the budget somewhere else; ``key`` names the team's
    state (None: the client derives it from a hash of its API key and base
    URL, so two clients of one team share it and the key cannot be read back).
    """

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

    def take_if_free(self, interval: float) -> bool:
        """Book the slot if it is free now at the learned ``interval``; False: ask ``take_now``."""
        state = take_if_free(self._states.get(self.key), self._clock(), interval)
        if state is None:
            return False
        self._states[self.key] = state
        return True

    def learn(self, interval: float) -> None:
        """Adopt a learned budget at once, so local estimates use it before the next take.

        With no state yet it starts one, as ``take_slot`` would, so that the
        first slot after learning already takes ``take_if_free``'s fast path.
        """
        state = self._states.get(self.key) or PacingState(0.0, interval, False, 0.0)
        self._states[self.key] = relearn(state, self._clock(), interval)

    async def take(self, request: TakeRequest) -> Slot:
        """See ``take_now``."""
        return self.take_now(request)
