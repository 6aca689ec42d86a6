"""Shared fixtures: a started FakeLettr (in the test's loop or in a thread), a Redis server.

Every exchange a test causes is validated against the vendored OpenAPI
document at teardown, so any test using these fixtures doubles as a contract
test of the fake (and of whatever client talked to it).

Scopes: a FakeLettr starts in ~2 ms, so each test gets its own (no state,
fault queue or rate window leaks between tests); a Redis server takes
~0.5 s, so one serves the session and is emptied for each test.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from hypothesis import settings

from lettr_async.testing import FakeLettr

try:
    from tests.contract import validate_exchange
    from tests.redis_server import RedisServer, started_server
except ImportError:  # tests/ on sys.path instead of the project root
    from contract import validate_exchange  # type: ignore[no-redef,import-not-found]
    from redis_server import (  # type: ignore[no-redef,import-not-found]
        RedisServer,
        started_server,
    )


# Fuzzers that do not set max_examples themselves: Hypothesis's 100 examples
# locally (a 400-example fuzzer was 15 s of CPU, a fifth of the suite's), 400
# under CI, where the suite runs once per change and time is cheaper.
settings.register_profile("ci", max_examples=400)
if os.environ.get("CI"):
    settings.load_profile("ci")


def assert_contract(fake: FakeLettr) -> None:
    """Validate every recorded exchange; skipped kinds are listed in tests/contract.py."""
    for record in list(fake.requests):
        validate_exchange(record)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Run ``@pytest.mark.anyio`` tests on asyncio only: the SDK is built on aiohttp."""
    return "asyncio"


@pytest.fixture
async def fake() -> AsyncIterator[FakeLettr]:
    """A FakeLettr serving in the test's event loop; contract-checked at teardown."""
    async with FakeLettr() as server:
        yield server
    assert_contract(server)


@pytest.fixture
def fake_thread() -> Iterator[FakeLettr]:
    """A FakeLettr on its own loop in a thread, for sync tests; contract-checked at teardown."""
    with FakeLettr.in_thread() as server:
        yield server
    assert_contract(server)


@pytest.fixture(scope="session")
def redis_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One Redis-protocol server for the session (starting one costs ~0.5 s)."""
    server = started_server(str(tmp_path_factory.mktemp("redis")))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_server(redis_process: RedisServer) -> RedisServer:
    """The session's Redis server, running and empty; a test may stop and restart it."""
    if redis_process.process is None:
        redis_process.start()
    redis_process.flush()
    return redis_process
