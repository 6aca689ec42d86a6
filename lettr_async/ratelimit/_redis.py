"""The Redis/Valkey store: one team budget shared by every process of every host.

Through ``redis``'s asyncio client (the ``lettr-async[redis]`` extra). The
GCRA step runs as one Lua script, so it is atomic, and it reads the server's
clock (``TIME``), so hosts with skewed clocks still agree. The key expires
by itself shortly after its last slot.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from .._loopguard import LoopGuard
from ._gcra import CATCH_UP, MAX_AHEAD, Slot, TakeRequest
from ._store import RateStore

__all__ = ["RedisStore"]

# Mirrors _gcra.take_slot line for line. It reads the server's clock, so it is not
# compared step by step; tests/test_shared_ratelimit.py runs the same budget,
# pause and learned-budget scenarios against it and against the SQLite store
# (which runs _gcra.take_slot itself). Numbers travel as strings: Lua-to-Redis
# conversion would truncate floats to integers.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local reserve = ARGV[1] == '1'
local max_wait = tonumber(ARGV[2])
local default_interval = tonumber(ARGV[3])
local learned_interval = tonumber(ARGV[4])
local pause = tonumber(ARGV[5])
local catch_up = tonumber(ARGV[6])
local max_pause = tonumber(ARGV[7])
local max_ahead = tonumber(ARGV[8])
local s = redis.call('HMGET', KEYS[1], 'tat', 'interval', 'learned', 'paused_until')
-- A missing field is no state; one that is not a number reads as NaN (repaired below).
local function num(v, missing)
  if not v then return missing end
  return tonumber(v) or 0 / 0
end
local tat = num(s[1], 0)
local interval = num(s[2], default_interval)
local learned = s[3] == '1'
local paused_until = num(s[4], 0)
-- repair(): NaN fails every comparison, as in Python
local repaired = false
if not (interval > 0 and interval <= math.max(max_ahead, default_interval)) then
  interval = default_interval
  learned = false
  repaired = true
end
if not (tat <= now + max_ahead) or tat == -math.huge then
  tat = 0
  repaired = true
end
if not (paused_until >= 0) then
  paused_until = 0
  repaired = true
elseif paused_until > now + max_pause then
  paused_until = now + max_pause
  repaired = true
end
if learned_interval > 0 then
  if learned_interval ~= interval and tat > now then
    tat = math.max(now, tat - interval + learned_interval)
  end
  interval = learned_interval
  learned = true
end
if pause > 0 then paused_until = math.max(paused_until, now + math.min(pause, max_pause)) end
local free_at = math.max(tat, paused_until)
local wait = free_at - now
local booked = wait <= 0 or (reserve and (max_wait < 0 or wait <= max_wait))
if booked then
  if now - free_at <= catch_up then tat = free_at + interval else tat = now + interval end
end
redis.call('HSET', KEYS[1], 'tat', string.format('%.17g', tat),
  'interval', string.format('%.17g', interval), 'learned', learned and '1' or '0',
  'paused_until', string.format('%.17g', paused_until))
local ttl = math.max(tat, paused_until) - now + 3600
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl * 1000))
local start = free_at
if booked then start = math.max(free_at, now) end
return {string.format('%.17g', wait), booked and 1 or 0,
  string.format('%.17g', interval), learned and 1 or 0, string.format('%.17g', start),
  repaired and 1 or 0}
"""


class RedisStore(RateStore):
    """A team budget in Redis or Valkey, shared across hosts.

    ``url`` is what ``redis.asyncio.Redis.from_url`` accepts (``redis://``,
    ``rediss://``, ``unix://``). ``timeout`` bounds each command (connecting
    gets up to 2 s), so an unreachable server fails fast and the limiter
    falls back.
    """

    def __init__(self, url: str, *, key: str | None = None, timeout: float = 0.4) -> None:
        """Remember the URL; the connection opens on first use, in the running loop.

        The client library is imported here, not by the first take: its
        ~0.1-0.5 s import would otherwise come out of that call's timeout.
        """
        super().__init__(key=key)
        with contextlib.suppress(ImportError):  # the first take says what to install
            import redis.asyncio  # noqa: F401
        self._url = url
        self._timeout = timeout
        self._script: Any = None
        self._guard: LoopGuard | None = None

    def __repr__(self) -> str:
        # The URL may carry a password: never show it.
        return "RedisStore(...)"

    async def _redis(self) -> Any:
        loop = asyncio.get_running_loop()
        guard = self._guard
        if guard is not None and guard.loop is loop and not guard.finished:
            return self._script
        # Connections belong to the loop that opened them. That loop ended
        # (``asyncio.run`` closed them through the guard) or is not ours to
        # touch (left for its own shutdown to close).
        self._guard = None
        if guard is not None:
            guard.drop()
        try:
            from redis.asyncio import Redis
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "the Redis rate store needs the redis package: pip install 'lettr-async[redis]'"
            ) from exc
        client = Redis.from_url(
            self._url,
            socket_timeout=self._timeout,
            socket_connect_timeout=max(self._timeout, 2.0),
            retry_on_timeout=False,
        )
        self._script = client.register_script(_TAKE)
        # Like the HTTP sessions: an async-generator guardian, not a pending task.
        self._guard = LoopGuard(client.aclose)
        return self._script

    async def take(self, request: TakeRequest) -> Slot:
        """One GCRA step as one Lua script, on the server's clock."""
        script = await self._redis()
        max_wait = request.max_wait
        reply = await script(
            keys=[self.key],
            args=[
                "1" if request.reserve else "0",
                repr(-1.0 if max_wait is None else max(0.0, max_wait)),
                repr(request.default_interval),
                repr(request.learned_interval or 0.0),
                repr(request.pause),
                repr(CATCH_UP),
                repr(request.max_pause),
                repr(MAX_AHEAD),
            ],
        )
        wait, booked, interval, learned, start, repaired = reply
        return Slot(
            float(wait), bool(booked), float(interval), bool(learned), float(start), bool(repaired)
        )

    async def aclose(self) -> None:
        """Close the connection pool in its own loop (see ``LoopGuard.close``)."""
        guard, self._guard = self._guard, None
        if guard is not None:
            await guard.close()
