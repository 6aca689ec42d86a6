"""``AsyncLettr(http_session=...)``: a caller's aiohttp session, used always, never closed.

The caller's own ``TraceConfig`` is the witness: it sees each request the
client sends (GET and POST, retries included), while retries, hooks, the
rate-limit bookkeeping, the body cap and certificate checks still apply.
"""

from __future__ import annotations

import asyncio
import contextlib
import types
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from lettr_async import (
    AsyncLettr,
    LettrError,
    TLSCertificateError,
    UnexpectedResponseError,
    ValidationError,
)
from lettr_async.testing import FakeLettr, Fault
from tests.bombs import bomb, encoded_response, serving
from tests.helpers import API_KEY, make_client, recording_hooks
from tests.rawserver import RawServer, Seen, raw_server, response
from tests.test_hardening import _close_reused_reply
from tests.test_hardening_transport import GIB_IN_MIB, _self_signed, _serving, _trusting

pytestmark = pytest.mark.anyio


def _tracing() -> tuple[aiohttp.TraceConfig, list[tuple[str, str]]]:
    """A TraceConfig recording ``(method, path)`` of every request started through it."""
    seen: list[tuple[str, str]] = []

    async def on_start(
        session: aiohttp.ClientSession,
        context: types.SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        seen.append((params.method, params.url.path))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    trace.freeze()
    return trace, seen


@contextlib.asynccontextmanager
async def _borrowing(server: RawServer, **kwargs: Any) -> AsyncIterator[AsyncLettr]:
    """A client for ``server`` on a plain caller-owned session (both closed afterwards)."""
    async with aiohttp.ClientSession() as session:
        client = AsyncLettr(
            API_KEY, base_url=server.base_url, rate_limit=None, http_session=session, **kwargs
        )
        async with client:
            yield client


@pytest.fixture
async def traced() -> AsyncIterator[tuple[aiohttp.ClientSession, list[tuple[str, str]]]]:
    trace, seen = _tracing()
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        yield session, seen


async def test_every_request_goes_through_the_callers_session_retries_included(
    fake: FakeLettr, traced: tuple[aiohttp.ClientSession, list[tuple[str, str]]]
) -> None:
    session, seen = traced
    hooks, records = recording_hooks()
    fake.inject(Fault.status(429, headers={"Retry-After": "0"}), method="GET")
    fake.inject(Fault.status(429, headers={"Retry-After": "0"}), method="POST")
    async with make_client(fake, http_session=session, hooks=hooks) as client:
        assert await client.webhooks.list() == []
        created = await client.webhooks.create(
            name="A", url="https://example.com/a", auth_type="none", events_mode="all"
        )
        assert (await client.webhooks.get(created.id)).name == "A"
        assert client.rate_limit_info.limit is not None  # the limiter read the headers
    on_wire = [(r.method, "/api" + r.path) for r in fake.requests]
    assert [m for m, _ in on_wire] == ["GET", "GET", "POST", "POST", "GET"]
    assert seen == on_wire  # the trace saw every attempt, both retries included
    assert all(r.headers["Authorization"] == f"Bearer {API_KEY}" for r in fake.requests)
    assert all(r.headers["User-Agent"].startswith("lettr-async/") for r in fake.requests)
    assert sum(type(r).__name__ == "Retry" for r in records) == 2  # hooks saw both retries
    # The client never closes what it did not open: the owner still uses it.
    assert not session.closed
    async with session.get(fake.base_url + "/webhooks") as resp:
        assert resp.status == 401  # no client headers leak into the owner's own requests


async def test_a_view_shares_the_callers_session_and_closing_it_leaves_that_open(
    fake: FakeLettr, traced: tuple[aiohttp.ClientSession, list[tuple[str, str]]]
) -> None:
    session, seen = traced
    client = make_client(fake, http_session=session)
    view = client.with_options(max_retries=0)
    await view.webhooks.list()
    await view.aclose()
    assert client.is_closed  # views share one lifecycle, as with the client's own session
    assert not session.closed
    assert len(seen) == 1


async def test_a_session_its_owner_closed_fails_with_our_error_before_sending(
    fake: FakeLettr,
) -> None:
    session = aiohttp.ClientSession()
    client = make_client(fake, http_session=session)
    await session.close()
    with pytest.raises(LettrError, match=r"http_session .* has been closed"):
        await client.webhooks.list()
    await client.aclose()
    assert fake.requests == []


@pytest.mark.parametrize(
    ("first_use", "timeout"),
    [("in-its-loop", None), ("in-its-loop", 5.0), ("built-there", None), ("elsewhere", 5.0)],
)
def test_a_session_of_another_event_loop_fails_with_our_error(
    fake_thread: FakeLettr, first_use: str, timeout: float | None
) -> None:
    loop = asyncio.new_event_loop()

    async def open_session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    session = loop.run_until_complete(open_session())
    try:

        async def build() -> AsyncLettr:
            return make_client(fake_thread, http_session=session, timeout=timeout)

        # A client built in the session's loop, or used there first, knows that loop.
        if first_use == "built-there":
            client = loop.run_until_complete(build())
        else:
            client = make_client(fake_thread, http_session=session, timeout=timeout)
        if first_use == "in-its-loop":
            loop.run_until_complete(client.webhooks.list())

        async def call() -> None:
            with pytest.raises(LettrError, match="belongs to the event loop") as caught:
                await client.webhooks.list()
            assert type(caught.value) is LettrError  # ours, and not retried
            await client.aclose()

        asyncio.run(call())
    finally:
        loop.run_until_complete(session.close())
        loop.close()
    # Refused before anything was sent (the first use elsewhere: by aiohttp, mapped).
    assert len(fake_thread.requests) == (first_use == "in-its-loop")


def _session(setting: str) -> aiohttp.ClientSession:
    if setting == "auth":
        with warnings.catch_warnings():  # aiohttp 3.14 deprecates BasicAuth: the caller's call
            warnings.simplefilter("ignore", DeprecationWarning)
            return aiohttp.ClientSession(auth=aiohttp.BasicAuth("user", "hunter2"))
    kwargs: dict[str, Any] = {setting: setting == "raise_for_status"}
    return aiohttp.ClientSession(**kwargs)


@pytest.mark.parametrize(
    ("setting", "reason"),
    [
        ("raise_for_status", "raise_for_status"),
        ("auto_decompress", "auto_decompress"),
        ("auth", "auth="),
    ],
)
async def test_a_session_the_client_cannot_use_is_refused_at_construction(
    setting: str, reason: str
) -> None:
    async with _session(setting) as session:
        with pytest.raises(ValidationError, match=reason) as caught:
            AsyncLettr(API_KEY, base_url="http://127.0.0.1:9/api", http_session=session)
    assert list(caught.value.errors) == ["http_session"]
    assert API_KEY not in str(caught.value)
    assert "hunter2" not in str(caught.value)


async def test_not_a_session_a_closed_one_and_a_connection_limit_are_refused() -> None:
    closed = aiohttp.ClientSession()
    await closed.close()
    refused: list[tuple[Any, str]] = [
        ("http://proxy", "must be an aiohttp.ClientSession"),
        (closed, "is closed"),
    ]
    for value, reason in refused:
        with pytest.raises(ValidationError, match=reason) as caught:
            AsyncLettr(API_KEY, base_url="http://127.0.0.1:9/api", http_session=value)
        assert list(caught.value.errors) == ["http_session"]
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ValidationError, match="connector") as caught:
            AsyncLettr(
                API_KEY,
                base_url="http://127.0.0.1:9/api",
                http_session=session,
                connection_limit=5,
            )
    assert list(caught.value.errors) == ["connection_limit"]
    assert "http_session" in str(caught.value)


async def test_the_key_stays_out_of_reprs_and_errors(
    traced: tuple[aiohttp.ClientSession, list[tuple[str, str]]],
) -> None:
    session, _ = traced
    async with raw_server() as server:
        port = server.port
    client = AsyncLettr(
        API_KEY, base_url=f"http://127.0.0.1:{port}/api", http_session=session, max_retries=0
    )
    with pytest.raises(LettrError) as caught:
        await client.webhooks.list()  # nothing listens there any more
    await client.aclose()
    for text in (repr(client), repr(client._state), str(caught.value), repr(caught.value)):
        assert API_KEY not in text


async def test_the_body_cap_applies_to_the_callers_session() -> None:
    raw = encoded_response(bomb("gzip", GIB_IN_MIB), "gzip", "length")
    async with raw_server(serving(raw)) as server, _borrowing(server, max_retries=0) as client:
        with pytest.raises(UnexpectedResponseError, match="larger than"):
            await client.webhooks.list()


@pytest.fixture(scope="module")
def loopback_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _self_signed(tmp_path_factory.mktemp("tls"), "loopback", "IP:127.0.0.1")


async def test_certificates_are_checked_whatever_the_sessions_connector_says(
    loopback_certificate: tuple[Path, Path],
) -> None:
    cert = loopback_certificate[0]
    async with (
        raw_server(ssl_context=_serving(loopback_certificate)) as server,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as session,
    ):
        async with AsyncLettr(
            API_KEY, base_url=server.base_url, rate_limit=None, http_session=session
        ) as client:
            with pytest.raises(TLSCertificateError, match=r"self.signed certificate"):
                await client.webhooks.list()
        assert server.seen == []
        async with AsyncLettr(
            API_KEY,
            base_url=server.base_url,
            rate_limit=None,
            http_session=session,
            verify=_trusting(cert),
        ) as client:
            assert await client.webhooks.list() == []
        assert len(server.seen) == 1


async def test_the_sessions_headers_and_middlewares_apply_under_the_clients_own(
    fake: FakeLettr,
) -> None:
    async def tag(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        request.headers["X-From-Middleware"] = "1"
        return await handler(request)

    theirs = {"User-Agent": "theirs", "X-Team": "blue"}
    async with aiohttp.ClientSession(headers=theirs, middlewares=(tag,)) as session:
        client = make_client(fake, http_session=session, default_headers={"X-Extra": "1"})
        async with client:
            await client.webhooks.list()
    (sent,) = fake.requests
    assert sent.headers["User-Agent"].startswith("lettr-async/")
    assert (sent.headers["X-Team"], sent.headers["X-Extra"]) == ("blue", "1")
    assert sent.headers["X-From-Middleware"] == "1"


async def test_the_calls_timeout_replaces_the_sessions(fake: FakeLettr) -> None:
    fake.inject(Fault.delay(0.2))
    timeout = aiohttp.ClientTimeout(total=0.001)  # would fail any request it governed
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        make_client(fake, http_session=session, max_retries=0) as client,
    ):
        assert await client.webhooks.list() == []


async def test_no_redirect_is_followed_on_the_callers_session() -> None:
    async def moved(seen: Seen) -> bytes:
        return response(302, b"", headers={"Location": "/elsewhere"})

    async with raw_server(moved) as server, _borrowing(server, max_retries=0) as client:
        with pytest.raises(UnexpectedResponseError, match="302"):
            await client.webhooks.list()
    assert len(server.seen) == 1


async def test_environment_proxies_are_not_applied_to_the_callers_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with raw_server() as proxy, raw_server() as api:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with _borrowing(api) as client:
            assert await client.webhooks.list() == []
    assert (len(proxy.seen), len(api.seen)) == (0, 1)


async def test_aiohttps_hidden_resend_stays_inside_one_attempt_on_the_callers_session() -> None:
    hooks, records = recording_hooks()
    async with raw_server(_close_reused_reply) as server, _borrowing(server, hooks=hooks) as client:
        await client.webhooks.list()  # opens a connection, kept alive
        await client.webhooks.list(max_retries=0)  # dropped on it, re-sent by aiohttp
    assert len(server.seen) == 3
    assert sum(type(r).__name__ == "Request" for r in records) == 2  # one attempt per call
