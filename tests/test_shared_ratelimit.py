"""Shared rate-limit stores: one team budget across limiters, processes and hosts.

Real parts only: SQLite files, a real Redis-protocol server started on a
free loopback port (``tests/redis_server.py``), real worker processes
against FakeLettr enforcing Lettr's 3 requests per second.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest

from lettr_async import AsyncLettr, RateLimitError, RetryPolicy, ValidationError
from lettr_async.ratelimit import (
    RATE_LIMIT_URL_ENV,
    RateStore,
    RedisStore,
    Slot,
    SQLiteStore,
    TakeRequest,
    open_store,
    team_key,
)
from lettr_async.ratelimit._gcra import CATCH_UP
from lettr_async.ratelimit._limiter import Lane, RateLimiter
from lettr_async.testing import FakeLettr, Fault
from lettr_sync import Lettr
from tests.conftest import assert_contract
from tests.helpers import API_KEY, make_client, run_python
from tests.pacing import max_in_any_window, virtual_time
from tests.redis_server import RedisServer

# Every wait here is bounded (store timeouts, fail_after); 60 s means a hang.
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

WORKER = Path(__file__).resolve().parent.parent / "benchmarks" / "_team_worker.py"


# -- configuration --------------------------------------------------------------------


def test_urls_pick_the_backend_and_bind_the_team_key(tmp_path: Path) -> None:
    sqlite = open_store(f"sqlite://{tmp_path}/b.db", api_key="k1", base_url="https://a/api")
    assert isinstance(sqlite, SQLiteStore)
    assert sqlite.path == f"{tmp_path}/b.db"
    assert sqlite.key == team_key("k1", "https://a/api")
    for url in ("redis://h:6379/0", "rediss://h:6380/1", "unix:///run/redis.sock"):
        assert isinstance(open_store(url, api_key="k1", base_url="https://a/api"), RedisStore)
    assert open_store(None, api_key="k1", base_url="https://a/api") is None


def test_the_team_key_hides_the_api_key_and_separates_teams_and_apis() -> None:
    key = team_key("lttr_secret_123", "https://app.lettr.com/api")
    assert "secret" not in key
    assert key == team_key("lttr_secret_123", "https://app.lettr.com/api")
    assert key != team_key("lttr_other", "https://app.lettr.com/api")
    assert key != team_key("lttr_secret_123", "https://eu.lettr.com/api")


def test_an_explicit_key_wins(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "b.db"), key="team-42")
    assert open_store(store, api_key="k", base_url="https://a/api") is store
    assert store.key == "team-42"


@pytest.mark.parametrize(
    "url", ["sqlite://relative.db", "sqlite:///", "memcached://h", "h:6379", 5]
)
def test_bad_store_options_are_validation_errors(url: object) -> None:
    with pytest.raises(ValidationError) as info:
        AsyncLettr(API_KEY, rate_limit_store=url)  # type: ignore[arg-type]
    assert "rate_limit_store" in info.value.errors


def test_the_env_var_is_the_fallback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(RATE_LIMIT_URL_ENV, f"sqlite://{tmp_path}/env.db")
    client = AsyncLettr(API_KEY)
    store = client._state.limiter.store
    assert isinstance(store, SQLiteStore)
    assert store.path == f"{tmp_path}/env.db"
    monkeypatch.setenv(RATE_LIMIT_URL_ENV, "ftp://nope")
    with pytest.raises(ValidationError) as info:
        AsyncLettr(API_KEY)
    assert RATE_LIMIT_URL_ENV in info.value.errors


def test_the_sync_client_and_views_share_the_store(tmp_path: Path) -> None:
    with Lettr(API_KEY, rate_limit_store=f"sqlite://{tmp_path}/s.db") as client:
        view = client.with_options(timeout=3)
        store = view._async()._state.limiter.store
        assert isinstance(store, SQLiteStore)
        assert store is client._async()._state.limiter.store


def test_a_redis_password_never_shows() -> None:
    store = open_store("redis://:hunter2@h:6379/0", api_key="k", base_url="https://a/api")
    assert "hunter2" not in repr(store)
    with pytest.raises(ValidationError) as info:
        AsyncLettr(API_KEY, rate_limit_store="redsi://:hunter2@h:6379/0")
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in repr(info.value.errors)


# -- the pacing invariant on the store's own clock ------------------------------------------


def _recording(store: RateStore, starts: list[float]) -> None:
    """Record every booked slot's start, on the store's clock (immune to local jitter)."""
    take = store.take

    async def recording_take(request: TakeRequest) -> Slot:
        slot = await take(request)
        if slot.booked:
            starts.append(slot.start)
        return slot

    store.take = recording_take  # type: ignore[method-assign]


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path}/budget.db"
    else:
        yield request.getfixturevalue("redis_server").url


async def test_limiters_sharing_a_store_never_exceed_the_budget_together(store_url: str) -> None:
    limit = 100
    starts: list[float] = []
    limiters = []
    for _ in range(3):
        store = open_store(store_url, api_key=API_KEY, base_url="http://team")
        assert store is not None
        _recording(store, starts)
        limiter = RateLimiter(3, store=store)
        limiter.observe({"X-RateLimit-Limit": str(limit)})
        limiters.append(limiter)

    async def work(limiter: RateLimiter, lane: Lane) -> None:
        for _ in range(15):
            await limiter.acquire(lane)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for limiter in limiters:
                for lane in (Lane.BULK, Lane.BULK, Lane.INTERACTIVE):
                    tg.start_soon(work, limiter, lane)
    for limiter in limiters:
        await limiter.aclose()
    assert len(starts) == 3 * 3 * 15
    assert max_in_any_window(starts) <= limit
    # The exact GCRA guarantee: any k+1 starts are at least k intervals apart
    # (less the catch-up allowance for late timers).
    starts.sort()
    interval = limiters[0].interval
    for k in (1, 5, limit):
        spans = [b - a for a, b in zip(starts, starts[k:], strict=False)]
        assert min(spans) >= k * interval - CATCH_UP - 1e-6


async def test_the_learned_budget_and_a_pause_reach_every_limiter(store_url: str) -> None:
    first = RateLimiter(3, store=open_store(store_url, api_key=API_KEY, base_url="http://t"))
    second = RateLimiter(3, store=open_store(store_url, api_key=API_KEY, base_url="http://t"))
    first.observe({"X-RateLimit-Limit": "50"})
    await first.acquire(Lane.INTERACTIVE)
    await second.acquire(Lane.BULK)
    assert second.interval == pytest.approx(1.03 / 50)
    first.pause(30.0)
    with pytest.raises(RateLimitError):
        await first.acquire(Lane.INTERACTIVE, deadline=anyio.current_time() + 1.0)
    # The pause travels with first's next take; second then sees it.
    with pytest.raises(RateLimitError) as info:
        await second.acquire(Lane.INTERACTIVE, deadline=anyio.current_time() + 1.0)
    assert info.value.retry_after is not None
    assert info.value.retry_after > 25
    await first.aclose()
    await second.aclose()


# -- real processes against FakeLettr enforcing 3/s ------------------------------------------


async def _until(predicate: Callable[[], bool]) -> None:
    """Wait for a condition the test does not control the timing of (polled)."""
    while True:
        if predicate():
            return
        await anyio.sleep(0.02)


async def _run_worker(job: dict[str, Any], cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    result = await anyio.run_process(
        [sys.executable, str(WORKER)], input=json.dumps(job).encode(), cwd=cwd, env=env
    )
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _host(tmp_path: Path, name: str) -> tuple[Path, dict[str, str]]:
    """A directory and environment of one simulated host: own cwd, own temp dir."""
    root = tmp_path / name
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TMPDIR": str(root / "tmp")}
    env.pop(RATE_LIMIT_URL_ENV, None)
    return root, env


PER_PROCESS = 4
"""Items each of the four processes updates: 18 slots at 3/s, ~6 s per team.

Enough for all four processes (and the web worker's gets, which start
after the fourth request) to be taking slots at once; more items only
lengthen the wait at 3/s.
"""


async def _team_run(fake: FakeLettr, store_url: str, tmp_path: Path) -> None:
    """4 processes x 6 updates, and a web worker's gets, against ``fake`` enforcing 3/s.

    Asserted is what the clients control: the slots the shared store granted
    to all processes together (on the store's one clock) never put more than
    3 starts in any one-second window, exactly, and no item is lost. How many
    429s the fake answers depends on how late a loaded machine delivers the
    requests after their slots: not counted (they are retried).
    """
    fake.set_rate_limit(3)
    count = 4 * PER_PROCESS
    ids = [
        fake.add_webhook(name=f"w{i}", url=f"https://example.com/{i}")["id"]
        for i in range(count + 1)
    ]
    probe_id = ids.pop()
    # Redis: two "hosts" of two processes each, sharing nothing but Redis.
    hosts = [_host(tmp_path, "host-a"), _host(tmp_path, "host-b")]
    if store_url.startswith("sqlite"):
        hosts = [hosts[0], hosts[0]]
    base = {"api_key": API_KEY, "base_url": fake.base_url, "store": store_url}
    reports: list[dict[str, Any]] = []

    def mine(n: int) -> list[str]:
        return ids[n * PER_PROCESS : (n + 1) * PER_PROCESS]

    async def worker(n: int) -> None:
        cwd, env = hosts[n % 2]
        job = {**base, "mode": "update", "ids": mine(n), "tag": f"p{n}"}
        reports.append(await _run_worker(job, cwd, env))

    interactive: list[dict[str, Any]] = []

    async def interactive_get() -> None:
        # Once the bulk job is under way, a web worker's get must be booked
        # one of the next two slots, ahead of the queued bulk items. Asserted
        # on the wait the shared store booked (its own clock), not on wake-ups
        # or on how long the request took on a loaded machine. Its first get
        # connects to the store and learns the budget; the second is measured.
        await _until(lambda: len(fake.requests) >= 4)
        cwd, env = hosts[1]
        job = {**base, "mode": "get", "ids": [probe_id, probe_id], "timeouts": [30.0, 30.0]}
        interactive.append(await _run_worker(job, cwd, env))
        reports.append(interactive[-1])

    async with anyio.create_task_group() as tg:
        for n in range(4):
            tg.start_soon(worker, n)
        tg.start_soon(interactive_get)
    assert [f for r in reports for f in r["failed"]] == []
    assert sum(r["ok"] for r in reports) == count + 2
    assert [w for r in reports for w in r["warnings"]] == []
    granted = [t for r in reports for t in r["granted"]]
    assert len(granted) >= count + 2  # every request had a slot from the store
    assert max_in_any_window(granted) <= 3
    measured_wait = interactive[0]["first_waits"][1]
    assert measured_wait is not None
    assert measured_wait <= 2 * 1.03 / 3 + 1e-9, measured_wait
    names = {w["name"] for w in fake.webhooks.values()}
    for n in range(4):
        assert {f"p{n}-{i}" for i in mine(n)} <= names


@pytest.mark.slow
@pytest.mark.timeout(150)  # the run itself is bounded at 120 s by fail_after
async def test_four_processes_share_three_per_second(
    fake: FakeLettr, redis_server: RedisServer, tmp_path: Path
) -> None:
    """SQLite (one host) and Redis (two hosts) teams, run side by side to halve the wait."""
    async with FakeLettr() as other:
        with anyio.fail_after(120):
            async with anyio.create_task_group() as tg:
                tg.start_soon(_team_run, fake, f"sqlite://{tmp_path}/budget.db", tmp_path / "s")
                tg.start_soon(_team_run, other, redis_server.url, tmp_path / "r")
    assert_contract(other)


# -- untrusted answers: a store (or its state) that says "wait forever" ---------------------

_INTERVAL_50 = 1.03 / 50


@pytest.fixture
def webhook_at_50(fake: FakeLettr, caplog: pytest.LogCaptureFixture) -> str:
    """The id of a webhook on ``fake``, which enforces 50/s; the SDK's warnings captured."""
    caplog.set_level(logging.WARNING, logger="lettr_async")
    fake.set_rate_limit(50)
    webhook_id: str = fake.add_webhook(name="A", url="https://example.com/a")["id"]
    return webhook_id


class _AbsurdStore(RateStore):
    """A store of someone's own that answers the same impossible slot every time."""

    def __init__(self, slot: Slot) -> None:
        super().__init__(key="absurd")
        self.slot = slot
        self.calls = 0

    async def take(self, request: TakeRequest) -> Slot:
        self.calls += 1
        return self.slot


@pytest.mark.parametrize(
    "slot",
    [
        Slot(1e9, True, _INTERVAL_50, True, 1e9),
        Slot(math.inf, True, _INTERVAL_50, True, math.inf),
        Slot(math.nan, True, _INTERVAL_50, True, 0.0),
        Slot(1e9, False, _INTERVAL_50, True, 1e9),
        Slot(0.0, True, math.inf, True, 0.0),
        Slot(0.0, True, -1.0, True, 0.0),
        Slot(25.0, True, _INTERVAL_50, True, 25.0),  # booked beyond the call's 5 s timeout
    ],
    ids=[
        "wait-1e9",
        "wait-inf",
        "wait-nan",
        "not-booked-1e9",
        "interval-inf",
        "interval<0",
        "late",
    ],
)
async def test_a_store_answering_absurd_waits_is_not_obeyed(
    fake: FakeLettr, caplog: pytest.LogCaptureFixture, webhook_at_50: str, slot: Slot
) -> None:
    """Every call is served at once (paced locally), on simulated time; one warning."""
    store = _AbsurdStore(slot)
    async with (
        make_client(fake, rate_limit=50, rate_limit_store=store, timeout=5) as client,
        virtual_time(client._state.limiter) as clock,
    ):
        began = clock.now()
        for _ in range(5):
            await client.webhooks.get(webhook_at_50)
        took = clock.now() - began
    assert len(fake.requests) == 5
    assert took <= 5 * 1.03 / 3  # at worst the default budget's spacing, never the store's wait
    assert store.calls >= 1
    assert _warnings(caplog, "rate-limit store unusable") == 1


def _poison_sqlite(path: Path, key: str, **columns: object) -> None:
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for column, value in columns.items():
            query = f"UPDATE lettr_rate SET {column} = ? WHERE key = ?"  # noqa: S608 - ours
            conn.execute(query, (value, key))
        assert conn.execute("SELECT changes()").fetchone()[0] == 1


def _poison_redis(url: str, key: str, **columns: object) -> None:
    import redis

    with contextlib.closing(redis.Redis.from_url(url)) as conn:
        assert conn.exists(key)
        conn.hset(key, mapping={k: str(v) for k, v in columns.items()})


POISONS: dict[str, dict[str, object]] = {
    "tat-inf": {"tat": math.inf},
    "paused-1e7": {"paused_until": "now+1e7"},
    "tat-and-pause": {"tat": math.inf, "paused_until": "now+1e7"},
    "tat-1e7": {"tat": "now+1e7"},
    "text": {"tat": "soon", "interval": "fast"},
    "interval-inf": {"interval": math.inf},
    "interval-nan": {"interval": "nan"},  # SQLite keeps NaN only as text
}


@pytest.mark.parametrize("poison", list(POISONS))
async def test_a_poisoned_shared_state_is_repaired(
    fake: FakeLettr,
    store_url: str,
    caplog: pytest.LogCaptureFixture,
    webhook_at_50: str,
    poison: str,
) -> None:
    """A real SQLite file or Redis key says "paused for months": served, one warning.

    Real time: the store's clock is the file's or the server's. The poison
    is 1e7 s or infinite; the client waits at most its max_pause (0.5 s)
    plus five slots, and the bound asserted (30 s) is that with a margin no
    scheduling jitter reaches.
    """
    policy = RetryPolicy(max_retry_after=0.5)  # this client's max_pause
    async with make_client(
        fake, rate_limit=50, rate_limit_store=store_url, retry_policy=policy, timeout=10
    ) as client:
        await client.webhooks.get(webhook_at_50)  # creates the state
        key = team_key(API_KEY, fake.base_url)
        columns = {
            k: time.time() + 1e7 if v == "now+1e7" else v for k, v in POISONS[poison].items()
        }
        if store_url.startswith("sqlite"):
            _poison_sqlite(Path(store_url[len("sqlite://") :]), key, **columns)
        else:
            _poison_redis(store_url, key, **columns)
        with anyio.fail_after(30):
            for _ in range(5):
                await client.webhooks.get(webhook_at_50)
    assert len(fake.requests) == 6
    assert client._state.limiter._store_retry_at is None  # still shared: repaired, not dropped
    assert _warnings(caplog, "cannot trust") == 1
    assert _warnings(caplog, "rate-limit store unusable") == 0


async def test_a_peer_allowed_longer_pauses_holds_others_only_for_their_own(
    store_url: str,
) -> None:
    """A peer with max_retry_after=3600 gets a 429: a client capped at 2 s waits 2 s, not 1 h."""
    patient = RateLimiter(
        3, max_pause=3600, store=open_store(store_url, api_key=API_KEY, base_url="http://t")
    )
    capped = RateLimiter(
        3, max_pause=2, store=open_store(store_url, api_key=API_KEY, base_url="http://t")
    )
    for limiter in (patient, capped):
        limiter.observe({"X-RateLimit-Limit": "50"})
    await patient.acquire(Lane.INTERACTIVE)
    patient.pause(3600)
    with pytest.raises(RateLimitError):  # the pause travels with this take
        await patient.acquire(Lane.INTERACTIVE, deadline=anyio.current_time() + 1.0)
    async with virtual_time(capped) as clock:
        began = clock.now()
        await capped.acquire(Lane.INTERACTIVE)
        took = clock.now() - began
    assert 1.5 <= took <= 2.0 + _INTERVAL_50
    await patient.aclose()
    await capped.aclose()


# -- faults: the store is down, locked or slow ---------------------------------------------


def _warnings(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(1 for r in caplog.records if r.levelno >= logging.WARNING and text in r.getMessage())


async def _update_all(client: AsyncLettr, ids: list[str]) -> int:
    result = await client.webhooks.update_many({i: {"name": f"n-{i}"} for i in ids})
    return sum(1 for o in result.outcomes if o.error is None)


async def test_redis_killed_mid_run_and_restarted(
    fake: FakeLettr, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lettr_async")
    fake.set_rate_limit(40)
    ids = [fake.add_webhook(name=f"w{i}", url=f"https://example.com/{i}")["id"] for i in range(100)]

    async def outage() -> None:
        await _until(lambda: len(fake.requests) >= 20)
        redis_server.stop()
        await _until(lambda: len(fake.requests) >= 40)
        await anyio.to_thread.run_sync(redis_server.start)

    async with make_client(fake, rate_limit=40, rate_limit_store=redis_server.url) as client:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(outage)
                assert await _update_all(client, ids) == 100
            # On a loaded machine the restart can outlast the job: the client
            # finds the server with its next calls (one probe a second).
            while _warnings(caplog, "rate-limit store is back") == 0:
                await client.webhooks.get(ids[0])
    assert _warnings(caplog, "rate-limit store unusable") == 1
    assert _warnings(caplog, "rate-limit store is back") == 1


@contextlib.contextmanager
def _sqlite_locked_by_a_peer(
    path: Path, lock: str = "BEGIN EXCLUSIVE"
) -> Iterator[subprocess.Popen[bytes]]:
    """Another process holds a lock on ``path`` (taken by ``lock``) until its stdin closes."""
    sqlite3.connect(path).close()
    peer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
            f"c.execute({lock!r})\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n"
            "c.execute('COMMIT')\n"
            "print('released', flush=True)\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert peer.stdout is not None
        assert peer.stdout.readline() == b"locked\n"
        yield peer
    finally:
        peer.kill()
        with peer:  # closes its pipes and reaps it
            pass


@pytest.fixture
def locked_sqlite(tmp_path: Path) -> Iterator[Path]:
    """A SQLite file another process holds an exclusive lock on (and never lets go)."""
    path = tmp_path / "budget.db"
    with _sqlite_locked_by_a_peer(path):
        yield path


@pytest.mark.parametrize(
    "lock",
    [
        # A peer's slow commit (a busy disk): the store used to give up after
        # 0.2 s and pace alone for a second.
        "BEGIN EXCLUSIVE",
        # A peer writing to a new file that is not WAL yet (setting it up as
        # this process does): the switch to WAL does not wait for a writer
        # (SQLite answers "locked" at once, as waiting could deadlock), which
        # is how processes opening a new file together fell off the shared
        # budget in CI.
        "BEGIN IMMEDIATE",
    ],
    ids=["commit", "writer-before-wal"],
)
async def test_a_sqlite_file_a_peer_holds_for_a_moment_is_waited_for(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, lock: str
) -> None:
    """A peer holding the file for a moment must not push this process off the shared budget.

    The store waits for the file within the limiter's deadline for a first
    operation.
    """
    caplog.set_level(logging.WARNING, logger="lettr_async")
    path = tmp_path / "budget.db"
    limiter = RateLimiter(3, store=SQLiteStore(str(path), key="team"))
    with _sqlite_locked_by_a_peer(path, lock) as peer:
        assert peer.stdin is not None
        assert peer.stdout is not None
        async with anyio.create_task_group() as tg:
            tg.start_soon(limiter.acquire, Lane.INTERACTIVE)
            # The peer's hold, in real time: longer than the old 0.2 s give-up,
            # well inside the first operation's 2 s deadline.
            await anyio.sleep(0.6)
            peer.stdin.close()
            assert peer.stdout.readline() == b"released\n"
    await limiter.aclose()
    assert _warnings(caplog, "rate-limit store unusable") == 0
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT key FROM lettr_rate").fetchall() == [("team",)]


@pytest.mark.slow
async def test_a_sqlite_file_locked_by_a_stuck_process(
    fake: FakeLettr, locked_sqlite: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lettr_async")
    fake.set_rate_limit(50)
    ids = [fake.add_webhook(name=f"w{i}", url=f"https://e.com/{i}")["id"] for i in range(30)]
    url = f"sqlite://{locked_sqlite}"
    async with make_client(fake, rate_limit=50, rate_limit_store=url) as client:
        with anyio.fail_after(30):
            assert await _update_all(client, ids) == 30
            assert await client.webhooks.get(ids[0]) is not None
    assert _warnings(caplog, "rate-limit store unusable") == 1


class _SlowStore(RateStore):
    """A store that never answers in time (a wedged server, a saturated network)."""

    def __init__(self) -> None:
        super().__init__(key="slow")
        self.calls = 0

    async def take(self, request: TakeRequest) -> Slot:
        self.calls += 1
        await anyio.sleep(3600)
        raise AssertionError("unreachable")


async def test_a_slow_store_neither_hangs_nor_fails_calls(
    fake: FakeLettr, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lettr_async")
    fake.set_rate_limit(50)
    ids = [fake.add_webhook(name=f"w{i}", url=f"https://e.com/{i}")["id"] for i in range(30)]
    store = _SlowStore()
    async with make_client(fake, rate_limit=50, rate_limit_store=store) as client:
        with anyio.fail_after(30):
            assert await _update_all(client, ids) == 30
    assert _warnings(caplog, "rate-limit store unusable") == 1
    # Retried about once a second, not once per call (that would be 30): the
    # run takes ~3 s, 10 leaves room for a machine slowed threefold.
    assert 1 <= store.calls <= 10


@contextlib.asynccontextmanager
async def _stalled_peer() -> AsyncIterator[str]:
    """A loopback TCP server that accepts and never answers: a wedged Redis, as a URL."""

    async def hold(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await anyio.sleep_forever()

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)  # noqa: S610 - not Django
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, hold)
        yield f"redis://127.0.0.1:{port}/0"
        tg.cancel_scope.cancel()


@pytest.mark.parametrize("call_timeout", [0.5, 0.2])
async def test_a_stalled_redis_leaves_a_short_timeout_for_the_request(
    fake: FakeLettr, caplog: pytest.LogCaptureFixture, webhook_at_50: str, call_timeout: float
) -> None:
    """The store may use a quarter of what is left of the call's timeout, then the call is sent."""
    async with (
        _stalled_peer() as url,
        make_client(fake, rate_limit=50, rate_limit_store=url, timeout=call_timeout) as client,
    ):
        for _ in range(3):
            assert (await client.webhooks.get(webhook_at_50)).id == webhook_at_50
    assert len(fake.requests) == 3
    assert _warnings(caplog, "rate-limit store unusable") == 1


async def test_a_429_without_a_shared_store_names_the_fix_once(
    fake: FakeLettr, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lettr_async")
    fake.inject(
        Fault.status(429, headers={"Retry-After": "0"}),
        Fault.status(429, headers={"Retry-After": "0"}),
    )
    async with make_client(fake, rate_limit=50) as client:
        await client.webhooks.list()
        await client.webhooks.list()
    assert _warnings(caplog, "LETTR_RATE_LIMIT_URL") == 1
    assert _warnings(caplog, "rate_limit_store") == 1


async def test_no_such_warning_when_pacing_is_off(
    fake: FakeLettr, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lettr_async")
    fake.inject(Fault.status(429, headers={"Retry-After": "0"}))
    async with make_client(fake) as client:
        await client.webhooks.list()
    assert _warnings(caplog, "rate_limit_store") == 0


def test_a_client_reused_across_event_loops_keeps_sharing(
    fake_thread: FakeLettr, redis_server: RedisServer, tmp_path: Path
) -> None:
    """A module-level client used by several ``asyncio.run`` calls, with each store."""
    import asyncio
    import gc

    seeded = fake_thread.add_webhook(name="A", url="https://example.com/a")
    for url in (redis_server.url, f"sqlite://{tmp_path}/loops.db"):
        client = make_client(fake_thread, rate_limit=50, rate_limit_store=url)
        for _ in range(3):
            assert asyncio.run(client.webhooks.get(seeded["id"])).id == seeded["id"]
            gc.collect()  # an unclosed connection of the dead loop would warn here
        asyncio.run(client.aclose())
        gc.collect()
    assert fake_thread.rate_limited_count == 0


HAND_MANAGED_REDIS = """
import asyncio, gc, sys
from lettr_async import AsyncLettr
from lettr_async.testing import FakeLettr

url, ending = sys.argv[1], sys.argv[2]
with FakeLettr.in_thread() as fake:
    seeded = fake.add_webhook(name="A", url="https://example.com/a")
    client = AsyncLettr(
        "lttr_test_key", base_url=fake.base_url, rate_limit=50, rate_limit_store=url
    )
    store = client._state.limiter.store
    take, answered = store.take, []

    async def counting_take(request):
        slot = await take(request)
        answered.append(slot)
        return slot

    store.take = counting_take
    for _ in range(5):
        loop = asyncio.new_event_loop()
        for _ in range(2):
            loop.run_until_complete(client.webhooks.get(seeded["id"]))
        loop.run_until_complete(loop.shutdown_asyncgens())  # what asyncio.run does
        loop.close()
        gc.collect()
    # Every call paced through Redis: the store never failed over to local pacing.
    assert len(answered) == 10, len(answered)
    assert client._state.limiter._store_retry_at is None
    if ending == "drop":
        del client, store, take
    else:
        loop = asyncio.new_event_loop()
        loop.run_until_complete(client.aclose())
        loop.close()
    gc.collect()
print("ok")
"""


@pytest.mark.slow
@pytest.mark.parametrize("ending", ["drop", "aclose-in-new-loop"])
def test_hand_managed_loops_with_redis_leave_no_warnings(
    redis_server: RedisServer, ending: str
) -> None:
    """Loops made by hand and closed after ``shutdown_asyncgens()`` (no ``aclose()``) are silent.

    A pending task guarding the Redis connection would be destroyed with its
    loop ("Task was destroyed but it is pending!") and leave its connection
    unclosed (a ResourceWarning, which ``-W error`` reports on stderr, as it
    would any socket left open when collected).
    """
    done = run_python(HAND_MANAGED_REDIS, redis_server.url, ending)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert done.stderr == ""
