"""Session lifecycle: lazy creation, reuse across asyncio.run calls, closing, loops."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import threading

import pytest

from lettr_async import AsyncLettr, LettrError
from lettr_async.testing import FakeLettr
from tests.helpers import make_client


def test_construction_starts_nothing() -> None:
    before = threading.active_count()
    client = AsyncLettr("lttr_x", base_url="http://127.0.0.1:9/api")
    assert client._state.http is None
    assert threading.active_count() == before


def test_module_level_client_survives_two_asyncio_runs(fake_thread: FakeLettr) -> None:
    client = make_client(fake_thread)

    async def call() -> int:
        return len(await client.webhooks.list())

    assert asyncio.run(call()) == 0
    first = client._state.http
    assert first is not None
    # The loop of the first run is gone; its session was closed by the guardian.
    assert first.closed
    assert asyncio.run(call()) == 0
    assert client._state.http is not first

    async def close() -> None:
        await client.aclose()

    asyncio.run(close())
    assert fake_thread.connections_opened == 2


def test_closed_client_raises_clearly(fake_thread: FakeLettr) -> None:
    async def scenario() -> None:
        client = make_client(fake_thread)
        async with client:
            await client.webhooks.list()
        assert client.is_closed
        with pytest.raises(LettrError, match="closed"):
            await client.webhooks.list()

    asyncio.run(scenario())


def test_second_running_loop_gets_a_clear_error(fake_thread: FakeLettr) -> None:
    client = make_client(fake_thread)
    ready = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    async def owner() -> None:
        await client.webhooks.list()
        ready.set()
        await asyncio.to_thread(release.wait, 10)
        await client.aclose()

    def run_owner() -> None:
        try:
            asyncio.run(owner())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=run_owner)
    thread.start()
    try:
        assert ready.wait(10)

        async def intruder() -> None:
            with pytest.raises(LettrError, match="another running event loop"):
                await client.webhooks.list()

        asyncio.run(intruder())
    finally:
        release.set()
        thread.join(10)
    assert not errors
    assert not thread.is_alive()


def _client_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if "lettr" in repr(t.get_coro())]


@pytest.mark.anyio
async def test_aclose_is_idempotent_and_leaves_no_tasks(fake: FakeLettr) -> None:
    client = make_client(fake)
    await client.webhooks.list()
    # The session guardian is an async generator registered with the loop, not a task.
    assert _client_tasks() == []
    session = client._state.http
    assert session is not None
    open_before = not session.closed
    await client.aclose()
    await client.aclose()
    assert _client_tasks() == []
    assert (open_before, session.closed) == (True, True)
    assert client._state.guard is None


_SLOW_CALLBACK = re.compile(r"^Executing <.*> took \d+\.\d+ seconds$")

HAND_MANAGED = """
import asyncio, gc, sys, weakref
from lettr_async import AsyncLettr
from lettr_async.testing import FakeLettr

with FakeLettr.in_thread() as fake:
    client = AsyncLettr("lttr_test_key", base_url=fake.base_url, rate_limit=None)
    sessions = []
    for _ in range(20):
        loop = asyncio.new_event_loop()
        loop.run_until_complete(client.webhooks.list())
        sessions.append(weakref.ref(client._state.http))
        if sys.argv[1] != "leak":
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    gc.collect()
    alive = sum(ref() is not None for ref in sessions)
    # Only the current loop's session is still referenced; none is hoarded.
    assert alive == 1, alive
    if sys.argv[1] == "aclose-in-new-loop":
        asyncio.run(client.aclose())
    del client
    gc.collect()
    assert sum(ref() is not None for ref in sessions) == 0
print("ok")
"""


def _run_hand_managed(script: str, *args: str) -> tuple[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # Debug mode's slow-callback reports ("Executing <Task ...> took 0.331
    # seconds") measure how busy the machine is, not our code: never counted.
    return done.stdout.strip(), [
        line for line in done.stderr.splitlines() if not _SLOW_CALLBACK.match(line)
    ]


@pytest.mark.slow
@pytest.mark.parametrize("ending", ["drop", "aclose-in-new-loop"])
def test_hand_managed_loops_that_shut_down_asyncgens_leave_no_warnings(ending: str) -> None:
    out, stderr = _run_hand_managed(HAND_MANAGED, ending)
    assert out == "ok"
    # No "Task was destroyed", no ResourceWarning, no "Exception ignored".
    assert stderr == []


@pytest.mark.slow
def test_hand_managed_loops_closed_without_shutdown_leak_their_sessions_loudly() -> None:
    """The documented cost of using public APIs only: aiohttp names what was left open."""
    out, stderr = _run_hand_managed(HAND_MANAGED, "leak")
    assert out == "ok"
    assert any("Unclosed client session" in line for line in stderr), stderr


def test_asyncio_run_closes_the_session_through_shutdown_asyncgens(
    fake_thread: FakeLettr,
) -> None:
    client = make_client(fake_thread)

    async def call() -> None:
        await client.webhooks.list()

    asyncio.run(call())
    session = client._state.http
    guard = client._state.guard
    assert session is not None
    assert guard is not None
    assert session.closed
    assert guard.finished
