"""pytest fixtures that point your code at a real fake Lettr, in one line.

Installed with the ``pytest`` (or ``test``) extra and registered through the
``pytest11`` entry point, so a test only has to ask for a fixture:

* ``lettr_fake``: a running ``FakeLettr`` (in its own thread, so sync and async
  tests alike can use it). While it is active, ``LETTR_BASE_URL`` and
  ``LETTR_API_KEY`` point at it, so code that builds its own client from the
  environment can never reach the real API by accident.
* ``lettr_client``: an ``AsyncLettr`` bound to it (works under pytest-asyncio,
  anyio's pytest plugin, or any loop the test runs).
* ``lettr_sync_client``: a ``lettr_sync.Lettr`` bound to it.
* ``@pytest.mark.lettr(rate_limit=3, webhooks=[...], api_key=...)`` configures
  the fake: its per-second limit, webhooks seeded before the test starts, the
  key it accepts.

The plugin is inert unless a test uses one of these: it only registers the
``lettr`` marker, and importing it loads nothing but pytest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from lettr_async import AsyncLettr
    from lettr_async.testing import FakeLettr
    from lettr_sync import Lettr

__all__ = ["DEFAULT_TEST_API_KEY", "LettrFakeConfig"]

DEFAULT_TEST_API_KEY = "lttr_pytest_key"
"""The key the fake accepts (and ``LETTR_API_KEY`` is set to) unless the marker says otherwise."""

_MARKER_HELP = (
    "lettr(rate_limit=None, webhooks=(), api_key=None): configure the lettr_fake "
    "fixture (per-second rate limit, webhooks seeded with FakeLettr.add_webhook, accepted key)"
)
_ALLOWED = frozenset({"rate_limit", "webhooks", "api_key"})


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``lettr`` marker so ``--strict-markers`` runs accept it."""
    config.addinivalue_line("markers", _MARKER_HELP)


class LettrFakeConfig:
    """The ``lettr`` marker's settings for one test, validated with a clear error.

    A typo in a marker keyword should fail the test loudly rather than run it
    against a fake configured differently from what the test author believes.
    """

    def __init__(
        self,
        rate_limit: int | None = None,
        webhooks: Sequence[Mapping[str, Any]] = (),
        api_key: str | None = None,
    ) -> None:
        """Validate the marker keywords (see the module docstring)."""
        if rate_limit is not None and (
            isinstance(rate_limit, bool) or not isinstance(rate_limit, int) or rate_limit <= 0
        ):
            raise pytest.UsageError(
                f"@pytest.mark.lettr(rate_limit=...) must be a positive int, got {rate_limit!r}"
            )
        self.rate_limit = rate_limit
        self.webhooks = [dict(hook) for hook in webhooks]
        self.api_key = api_key or DEFAULT_TEST_API_KEY

    @classmethod
    def for_node(cls, node: pytest.Item) -> LettrFakeConfig:
        """Merge every ``lettr`` marker on the test, the closest one winning."""
        kwargs: dict[str, Any] = {}
        for marker in reversed(list(node.iter_markers("lettr"))):
            if marker.args:
                raise pytest.UsageError("@pytest.mark.lettr takes keyword arguments only")
            unknown = set(marker.kwargs) - _ALLOWED
            if unknown:
                raise pytest.UsageError(
                    f"@pytest.mark.lettr got unknown keyword(s) {sorted(unknown)}; "
                    f"allowed: {sorted(_ALLOWED)}"
                )
            kwargs.update(marker.kwargs)
        return cls(**kwargs)


@pytest.fixture
def lettr_fake(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeLettr]:
    """A started ``FakeLettr`` for this test, with the environment pointed at it.

    It serves from its own thread, so sync code, async code in any event loop,
    and Django views can all reach it. ``LETTR_BASE_URL`` and ``LETTR_API_KEY``
    are set to the fake for the test's duration: a client built from the
    environment talks to the fake, never to app.lettr.com. Seed state with
    ``lettr_fake.add_webhook(...)`` (or the marker's ``webhooks=``), script
    failures with ``lettr_fake.inject(Fault...)``, and assert on
    ``lettr_fake.requests``.
    """
    from lettr_async.testing import FakeLettr

    config = LettrFakeConfig.for_node(request.node)
    with FakeLettr.in_thread(api_key=config.api_key, rate_limit=config.rate_limit) as fake:
        for hook in config.webhooks:
            fake.add_webhook(**hook)
        monkeypatch.setenv("LETTR_BASE_URL", fake.base_url)
        monkeypatch.setenv("LETTR_API_KEY", config.api_key)
        yield fake


@pytest.fixture
def lettr_client(lettr_fake: FakeLettr, request: pytest.FixtureRequest) -> Iterator[AsyncLettr]:
    """An ``AsyncLettr`` bound to ``lettr_fake``, for async tests under any plugin.

    It is a plain (sync) fixture on purpose: the client opens its connections
    lazily in whichever loop the test runs (pytest-asyncio's, anyio's), so it
    needs neither plugin's fixture decorator. Pacing follows the marker's
    ``rate_limit`` (off by default, so tests run at full speed).
    """
    from lettr_async import AsyncLettr

    config = LettrFakeConfig.for_node(request.node)
    client = AsyncLettr(config.api_key, base_url=lettr_fake.base_url, rate_limit=config.rate_limit)
    yield client
    _close_async_client(client)


@pytest.fixture
def lettr_sync_client(lettr_fake: FakeLettr, request: pytest.FixtureRequest) -> Iterator[Lettr]:
    """A ``lettr_sync.Lettr`` bound to ``lettr_fake``, closed (thread joined) afterwards."""
    from lettr_sync import Lettr

    config = LettrFakeConfig.for_node(request.node)
    client = Lettr(config.api_key, base_url=lettr_fake.base_url, rate_limit=config.rate_limit)
    try:
        yield client
    finally:
        client.close()


def _close_async_client(client: AsyncLettr) -> None:
    """Close a client through its public ``aclose()``, from a loop of its own.

    When the test's loop has ended, its shutdown closed the client's session.
    A loop kept for a wider scope (pytest-asyncio's ``loop_scope``, anyio's
    runner) still exists: ``aclose()`` leaves that loop's session to it, and
    its ``shutdown_asyncgens()`` closes it when the scope ends.
    """
    import asyncio

    loop = asyncio.new_event_loop()  # not asyncio.run: the thread's current loop stays set
    try:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(loop.shutdown_default_executor())  # as asyncio.run does
    finally:
        loop.close()
