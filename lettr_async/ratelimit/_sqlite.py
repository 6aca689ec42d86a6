"""The SQLite store: one team budget shared by every process of one host.

Standard library only. WAL mode lets readers and the one writer overlap;
each take is one ``BEGIN IMMEDIATE`` transaction (read, GCRA step, write),
so two processes can never book the same slot. The blocking calls run in a
worker thread (``anyio.to_thread``) so the event loop never waits on the
file. A locked file is waited for as long as the limiter waits for any
store operation, and no longer: a file locked by a stuck process is an
error the limiter falls back from, not a hang, and a file another process
holds for a moment (a commit slowed by a busy disk) is not. Times are
wall-clock seconds, which every process of a host shares.
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import anyio.to_thread

from ._gcra import PacingState, Slot, TakeRequest, take_slot
from ._store import STORE_FIRST_TIMEOUT, RateStore

__all__ = ["SQLiteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS lettr_rate (
    key TEXT PRIMARY KEY,
    tat REAL NOT NULL,
    interval REAL NOT NULL,
    learned INTEGER NOT NULL,
    paused_until REAL NOT NULL
)
"""


class SQLiteStore(RateStore):
    """A team budget in a SQLite file, for the processes of one host.

    ``busy_timeout`` (seconds) bounds how long a take waits for another
    process's transaction; past it the limiter paces in-process for a while.
    The default is the limiter's longest deadline for a store operation, so
    the limiter's deadlines decide when to give up (a shorter wait gave up
    on a file that a peer's slow commit held for a fraction of a second).
    """

    def __init__(
        self,
        path: str,
        *,
        key: str | None = None,
        busy_timeout: float = STORE_FIRST_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Remember where the file is; it is opened (and created) on first use.

        ``clock`` must be shared by every process using the file: wall-clock
        seconds by default.
        """
        super().__init__(key=key)
        self._clock = clock
        self.path = path
        self._busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        # A connection inherited across fork() must not be used: open anew.
        conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            self._use_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            # Creating needs a write lock: skip it when another process already did it.
            known = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lettr_rate'"
            ).fetchone()
            if known is None:
                conn.execute(_SCHEMA)
        except BaseException:
            conn.close()
            raise
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL (once per file: the mode is kept in the file), waiting for peers.

        The switch needs the file to itself, and while another connection
        holds a write lock on it SQLite answers "database is locked" at once,
        without the busy wait (waiting could deadlock). Processes that open a
        new file together therefore retry here, within the same bound as any
        locked file; a peer may also have switched it meanwhile.
        """
        deadline = time.monotonic() + self._busy_timeout
        pause = 0.001
        while conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return  # a file that cannot be WAL (a memory database) keeps its mode
            except sqlite3.OperationalError:
                if time.monotonic() + pause > deadline:
                    raise
                time.sleep(pause)
                pause = min(2 * pause, 0.05)

    def _take_blocking(self, request: TakeRequest) -> Slot:
        if not self._lock.acquire(timeout=self._busy_timeout):
            raise TimeoutError("the SQLite rate store is busy in another thread")
        try:
            conn = self._connect()
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT tat, interval, learned, paused_until FROM lettr_rate WHERE key = ?",
                    (self.key,),
                ).fetchone()
                state = None if row is None else _state_of(row)
                new, slot = take_slot(state, self._clock(), request)
                if new != state:
                    conn.execute(
                        "INSERT OR REPLACE INTO lettr_rate VALUES (?, ?, ?, ?, ?)",
                        (self.key, new.tat, new.interval, int(new.learned), new.paused_until),
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return slot
        finally:
            self._lock.release()

    async def take(self, request: TakeRequest) -> Slot:
        """One GCRA step in one ``BEGIN IMMEDIATE`` transaction, off the event loop."""
        return await anyio.to_thread.run_sync(self._take_blocking, request, abandon_on_cancel=True)

    def _close_blocking(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None and self._pid == os.getpid():
                conn.close()

    async def aclose(self) -> None:
        """Close the file (a later take reopens it)."""
        await anyio.to_thread.run_sync(self._close_blocking)


def _state_of(row: tuple[Any, ...]) -> PacingState:
    """The row as numbers; one that is not a number reads as NaN, which ``take_slot`` repairs.

    SQLite keeps whatever a column was given, text included: anything may
    have written the file.
    """
    return PacingState(_number(row[0]), _number(row[1]), bool(row[2]), _number(row[3]))


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan
