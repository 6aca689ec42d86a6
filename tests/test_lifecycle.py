"""Session lifecycle: lazy creation, reuse across asyncio.run calls, closing, loops."""

from __future__ import annotations

import asyncio
import threading

import pytest

from lettr_async import AsyncLettr, LettrError
from lettr_async.testing import FakeLettr
from tests.helpers import make_client


def test_construction_starts_nothing() -> None:
    before = threading.active_count()
    client = AsyncLettr("lttr_x", base_url="http://127.0.0.1:9/api")
    assert client._state.session is None
    assert threading.active_count() == before


def test_module_level_client_survives_two_asyncio_runs(fake_thread: FakeLettr) -> None:
    client = make_client(fake_thread)

    async def call() -> int:
        return len(await client.webhooks.list())

    assert asyncio.run(call()) == 0
    first = client._state.session
    assert first is not None
    # The loop of the first run is gone; its session was closed by the guardian.
    assert first.http.closed
    assert asyncio.run(call()) == 0
    assert client._state.session is not first

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
    return [
        t
        for t in asyncio.all_tasks()
        if getattr(t.get_coro(), "__qualname__", "") == "_Session._guard"
    ]


@pytest.mark.anyio
async def test_aclose_is_idempotent_and_leaves_no_tasks(fake: FakeLettr) -> None:
    client = make_client(fake)
    assert _client_tasks() == []
    await client.webhooks.list()
    assert len(_client_tasks()) == 1  # the session guardian
    session = client._state.session
    assert session is not None
    await client.aclose()
    await client.aclose()
    assert _client_tasks() == []
    assert session.http.closed
    assert client._state.session is None
