"""Issue 10 hardening: each test here failed on the code before the fix it pins."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import math
import subprocess
import time
import warnings
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from lettr_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncLettr,
    InsecureBaseURLWarning,
    LettrError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    TLSCertificateError,
    UnexpectedResponseError,
    ValidationError,
)
from lettr_async._transport import MAX_RESPONSE_BYTES
from lettr_async.testing import FakeLettr, Fault
from tests.helpers import API_KEY, FAST_RETRIES, closed_port, make_client
from tests.rawserver import LIST_BODY, Seen, raw_server, response

pytestmark = pytest.mark.anyio

SECRET_KEY = "lttr_SECRET_KEY_7f3a9c"
PASSWORD = "pa55-SECRET-word"
OAUTH_SECRET = "oauth-SECRET-4242"
SECRETS = (SECRET_KEY, PASSWORD, OAUTH_SECRET)
BASIC: dict[str, Any] = {
    "name": "Hook",
    "url": "https://example.com/hook",
    "auth_type": "basic",
    "events_mode": "all",
    "auth_username": "user",
    "auth_password": PASSWORD,
}
OAUTH: dict[str, Any] = {
    "name": "Hook",
    "url": "https://example.com/hook",
    "auth_type": "oauth2",
    "events_mode": "all",
    "oauth_client_id": "id",
    "oauth_client_secret": OAUTH_SECRET,
    "oauth_token_url": "https://example.com/token",
}

# -- 4. no secret reachable from any exception we raise ----------------------------


def _reachable(root: object) -> Iterator[object]:
    """Every object reachable from an exception: cause, context, args, attributes, items."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, (type, type(gc))):
            continue
        seen.add(id(obj))
        yield obj
        if isinstance(obj, BaseException):
            stack += [obj.__cause__, obj.__context__, *obj.args]
            stack += list(getattr(obj, "__notes__", []))
            stack += list(getattr(obj, "exceptions", []) or [])
        if isinstance(obj, dict):
            stack += [*obj.keys(), *obj.values()]
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack += list(obj)
        elif hasattr(obj, "items") and callable(obj.items):
            try:
                stack += [v for pair in obj.items() for v in pair]
            except Exception:  # noqa: S112 - a mapping-like we cannot walk is still repr'd
                continue
        if hasattr(obj, "__dict__") and not callable(obj):
            stack += list(vars(obj).values())
        for slot in getattr(type(obj), "__slots__", ()):
            if isinstance(slot, str) and hasattr(obj, slot):
                stack.append(getattr(obj, slot))


def assert_no_secret_reachable(exc: BaseException) -> None:
    """No object reachable from ``exc`` has a secret in its repr or str."""
    for obj in _reachable(exc):
        for text in (repr(obj), str(obj)):
            for secret in SECRETS:
                assert secret not in text, f"{secret!r} reachable via {type(obj).__name__}"


async def _huge(seen: Seen) -> bytes | None:
    return response(body=b'{"data": "' + b"x" * (MAX_RESPONSE_BYTES + 10) + b'"}')


async def _drop(seen: Seen) -> bytes | None:
    return None


async def _garbage(seen: Seen) -> bytes | None:
    return b"NOT HTTP AT ALL\r\n\r\n"


async def _truncated(seen: Seen) -> tuple[bytes, bool]:
    return response(body=LIST_BODY)[:-5], True  # then close the connection


@pytest.mark.parametrize(
    "fault",
    [
        Fault.malformed(),
        Fault.drop(),
        Fault.status(401),
        Fault.status(429, headers={"Retry-After": "0"}),
        Fault.status(500, body="<html>oops</html>", content_type="text/html"),
        Fault.status(
            422, json={"message": "bad", "error_code": "validation_error", "errors": {"x": ["y"]}}
        ),
    ],
    ids=["malformed", "drop", "401", "429", "500-html", "422"],
)
@pytest.mark.parametrize("fields", [BASIC, OAUTH], ids=["basic", "oauth"])
async def test_no_secret_reachable_from_api_failures(
    fake: FakeLettr, fault: Fault, fields: dict[str, Any]
) -> None:
    fake_key = FakeLettr(api_key=SECRET_KEY)
    async with fake_key:
        fake_key.inject(fault)
        async with AsyncLettr(
            SECRET_KEY, base_url=fake_key.base_url, rate_limit=None, max_retries=0
        ) as client:
            with pytest.raises(LettrError) as info:
                await client.webhooks.create(**fields)
    assert_no_secret_reachable(info.value)


@pytest.mark.parametrize(
    "reply", [_huge, _drop, _garbage, _truncated], ids=["huge", "drop", "garbage", "truncated"]
)
async def test_no_secret_reachable_from_transport_failures(reply: Any) -> None:
    async with (
        raw_server(reply) as server,
        AsyncLettr(SECRET_KEY, base_url=server.base_url, rate_limit=None, max_retries=0) as client,
    ):
        with pytest.raises(LettrError) as info:
            await client.webhooks.list()
        with pytest.raises(LettrError) as created:
            await client.webhooks.create(**BASIC)
    assert_no_secret_reachable(info.value)
    assert_no_secret_reachable(created.value)
    assert info.value.__cause__ is None
    assert info.value.__context__ is None


async def test_no_secret_reachable_from_timeouts_refusals_and_local_errors() -> None:
    failures: list[BaseException] = []
    async with (
        raw_server(_slow) as server,
        AsyncLettr(SECRET_KEY, base_url=server.base_url, rate_limit=None) as client,
    ):
        with pytest.raises(APITimeoutError) as timeout:
            await client.webhooks.list(timeout=0.2)
        failures.append(timeout.value)
    async with AsyncLettr(
        SECRET_KEY, base_url=f"http://127.0.0.1:{closed_port()}/api", max_retries=0
    ) as client:
        with pytest.raises(APIConnectionError) as refused:
            await client.webhooks.create(**BASIC)
        failures.append(refused.value)
        with pytest.raises(ValidationError) as local:
            await client.webhooks.create(**{**BASIC, "url": "nope"})
        failures.append(local.value)
        with pytest.raises(ValidationError) as too_long:
            await client.webhooks.update("w1", auth_password=PASSWORD * 40)
        failures.append(too_long.value)
    for exc in failures:
        assert_no_secret_reachable(exc)


async def _slow(seen: Seen) -> bytes | None:
    await asyncio.sleep(5)
    return response()


def test_base_url_with_credentials_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        AsyncLettr(API_KEY, base_url="https://user:s3cr3t@app.lettr.com/api")
    assert "base_url" in info.value.errors
    assert "s3cr3t" not in str(info.value)


# -- 9. bad constructor arguments fail at once, and nothing leaks -------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"base_url": "http://u:p@127.0.0.1/api"}, "base_url"),
        ({"base_url": "http://127.0.0.1:99999/api"}, "base_url"),
        ({"base_url": "http://127.0.0.1:abc/api"}, "base_url"),
        ({"api_key": "lttr_x\r\nX-Evil: 1"}, "api_key"),
        ({"api_key": "lttr_x\n"}, "api_key"),  # a trailing newline is stripped: accepted
        ({"timeout": math.inf}, "timeout"),
        ({"timeout": math.nan}, "timeout"),
        ({"connection_limit": "8"}, "connection_limit"),
        ({"connection_limit": -5}, "connection_limit"),
        ({"connection_limit": True}, "connection_limit"),
        ({"rate_limit": math.inf}, "rate_limit"),
        ({"max_retries": 2.5}, "max_retries"),
        ({"verify": False}, "verify"),
        ({"default_headers": {"X-A": "1\r\nX-B: 2"}}, "default_headers"),
    ],
)
def test_bad_constructor_arguments_are_refused_up_front(kwargs: dict[str, Any], field: str) -> None:
    kwargs = {"api_key": API_KEY, "base_url": "http://127.0.0.1:9/api", **kwargs}
    if kwargs["api_key"] == "lttr_x\n":
        assert AsyncLettr(**kwargs).base_url == "http://127.0.0.1:9/api"
        return
    with pytest.raises(ValidationError) as info:
        AsyncLettr(**kwargs)
    assert field in info.value.errors
    assert isinstance(info.value, ValueError)


async def test_bad_webhook_ids_are_refused_before_anything_is_sent(fake: FakeLettr) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        async with make_client(fake) as client:
            for bad in ["\ud800", "a\nb", "x" * 300, ""]:
                with pytest.raises(ValidationError) as info:
                    await client.webhooks.get(bad)
                assert "webhook_id" in info.value.errors
            with pytest.raises(ValidationError):
                await client.webhooks.update("\udfff", name="n")
            with pytest.raises(ValidationError):
                await client.webhooks.create(**{**BASIC, "name": "bad \ud800"})
        gc.collect()
    assert fake.requests == []


# -- 6. timeout bounds the whole call --------------------------------------------------


async def test_timeout_covers_retries_and_their_waits(fake: FakeLettr) -> None:
    for _ in range(50):
        fake.inject(Fault.status(503, headers={"Retry-After": "0.3"}))
    async with make_client(fake, timeout=1.0, max_retries=50) as client:
        started = time.monotonic()
        with pytest.raises(LettrError) as info:
            await client.webhooks.list()
        took = time.monotonic() - started
    exc = info.value
    assert exc.attempts is not None
    assert exc.elapsed is not None
    # Each retry waits 0.3 s, so at most 4 attempts fit in 1 s, however slow the machine.
    assert 1 <= exc.attempts <= 4
    assert exc.attempts == len(fake.requests)
    assert exc.elapsed <= took
    # A retry that could not start before the deadline was not slept on.
    assert exc.elapsed < 1.0


async def test_a_timeout_error_says_attempts_and_total_time(fake: FakeLettr) -> None:
    fake.inject(Fault.drop(), Fault.delay(5))
    async with make_client(fake, timeout=0.5, max_retries=3) as client:
        with pytest.raises(APITimeoutError) as info:
            await client.webhooks.list()
    assert info.value.attempts == 2
    assert "2 attempts in" in str(info.value)
    assert "timeout 0.5s" in str(info.value)
    assert len(fake.requests) == 2


# -- 7. no hidden retries: exactly max_retries + 1 attempts, each through the limiter --


def _close_reused(seen: Seen) -> bytes | None:
    # A server that closed a kept-alive connection just as the next request came.
    return response() if seen.index_on_connection == 1 else None


async def _close_reused_reply(seen: Seen) -> bytes | None:
    return _close_reused(seen)


@pytest.mark.parametrize("max_retries", [0, 1, 2])
async def test_no_hidden_retry_when_a_pooled_connection_drops(max_retries: int) -> None:
    async with raw_server(_close_reused_reply) as server:
        client = AsyncLettr(
            API_KEY, base_url=server.base_url, rate_limit=None, retry_policy=FAST_RETRIES
        )
        limiter = client._state.limiter
        acquired: list[float] = []
        original = limiter.take_free_now

        def counting(*args: Any, **kwargs: Any) -> bool:
            # The pipeline asks this first on every attempt (then acquire, if held).
            acquired.append(time.monotonic())
            return original(*args, **kwargs)

        limiter.take_free_now = counting  # type: ignore[method-assign]
        async with client:
            await client.webhooks.list()  # opens connection 1, kept alive
            assert len(server.seen) == 1
            try:
                await client.webhooks.list(max_retries=max_retries)
            except APIConnectionError:
                assert max_retries == 0
            else:
                assert max_retries > 0
    # First call: 1 request. Second: one dropped on the pooled connection, then
    # (if retries are allowed) one retry on a new connection that succeeds.
    expected_second = 1 if max_retries == 0 else 2
    assert len(server.seen) == 1 + expected_second
    assert len(acquired) == len(server.seen)


# -- 8. retry rules for create -----------------------------------------------------------


async def test_a_create_that_got_429_is_retried(fake: FakeLettr) -> None:
    fake.inject(Fault.status(429, headers={"Retry-After": "0"}))
    async with make_client(fake) as client:
        hook = await client.webhooks.create(
            name="n", url="https://example.com/a", auth_type="none", events_mode="all"
        )
    assert hook.name == "n"
    posts = [r for r in fake.requests if r.method == "POST"]
    assert [r.status for r in posts] == [429, 201]


async def test_a_create_never_rides_a_connection_the_server_closed() -> None:
    created = json.dumps(
        {
            "message": "ok",
            "data": {
                "id": "w1",
                "name": "n",
                "url": "https://example.com/a",
                "enabled": True,
                "event_types": None,
                "auth_type": "none",
                "has_auth_credentials": False,
                "last_successful_at": None,
                "last_failure_at": None,
                "last_status": None,
            },
        }
    ).encode()

    async def reply(seen: Seen) -> bytes | None:
        if seen.index_on_connection > 1:
            return None  # the kept-alive connection died under the next request
        return response(201, created) if seen.method == "POST" else response()

    async with (
        raw_server(reply) as server,
        AsyncLettr(API_KEY, base_url=server.base_url, rate_limit=None, max_retries=0) as client,
    ):
        await client.webhooks.list()
        hook = await client.webhooks.create(
            name="n", url="https://example.com/a", auth_type="none", events_mode="all"
        )
    assert hook.id == "w1"
    post = next(s for s in server.seen if s.method == "POST")
    assert post.index_on_connection == 1  # a fresh connection
    assert post.connection != server.seen[0].connection


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl CLI)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_tls_certificate_failure_is_not_retried_and_verify_fixes_it(
    self_signed: tuple[Path, Path],
) -> None:
    import ssl

    cert, key = self_signed
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    async with raw_server(ssl_context=context) as server:
        async with AsyncLettr(
            API_KEY, base_url=server.base_url, rate_limit=None, max_retries=3
        ) as client:
            with pytest.raises(TLSCertificateError) as info:
                await client.webhooks.list()
        assert info.value.attempts == 1
        assert server.seen == []
        async with AsyncLettr(
            API_KEY, base_url=server.base_url, rate_limit=None, verify=str(cert)
        ) as trusting:
            assert await trusting.webhooks.list() == []
        custom = ssl.create_default_context(cafile=str(cert))
        async with AsyncLettr(
            API_KEY, base_url=server.base_url, rate_limit=None, verify=custom
        ) as trusting:
            assert await trusting.webhooks.list() == []
    assert len(server.seen) == 2


# -- 1. absurd Retry-After never freezes the client ----------------------------------


@pytest.mark.parametrize(
    "retry_after",
    ["86400", "inf", "1e400", "nan", "-5", formatdate(time.time() + 86400, usegmt=True)],
)
async def test_absurd_retry_after_is_capped_and_bounded_by_the_timeout(
    fake: FakeLettr, retry_after: str
) -> None:
    fake.inject(Fault.status(429, headers={"Retry-After": retry_after}))
    policy = RetryPolicy(backoff_initial=0.01, backoff_max=0.05, max_retry_after=0.5)
    async with make_client(fake, retry_policy=policy, timeout=2.0) as client:
        # Retried after at most max_retry_after, well inside the 2 s timeout.
        assert await client.webhooks.list() == []
    assert len(fake.requests) == 2


async def test_a_long_pause_fails_a_call_at_once_instead_of_outliving_its_timeout(
    fake: FakeLettr,
) -> None:
    fake.inject(Fault.status(429, headers={"Retry-After": "86400"}))
    async with make_client(fake, max_retries=0) as client:
        with pytest.raises(RateLimitError):
            await client.webhooks.list()
        started = time.monotonic()
        with pytest.raises(RateLimitError) as info:
            await client.webhooks.list(timeout=1.0)
        # The pause (capped at 60 s) is beyond the timeout: refused without waiting it out.
        assert time.monotonic() - started < 1.0
    assert info.value.error_code == "client_rate_limited"
    assert info.value.attempts == 0  # refused before sending anything
    assert len(fake.requests) == 1


# -- 10. a raising on_progress loses nothing ---------------------------------------------


async def test_a_raising_progress_callback_keeps_every_outcome(
    fake: FakeLettr, caplog: pytest.LogCaptureFixture
) -> None:
    ids = [fake.add_webhook(name=f"w{n}", url=f"https://example.com/{n}")["id"] for n in range(5)]

    def boom(done: int, total: int) -> None:
        raise RuntimeError(f"progress bar broke at {done}/{total}")

    async with make_client(fake) as client:
        with caplog.at_level(logging.ERROR, logger="lettr_async"):
            result = await client.webhooks.update_many(
                {i: {"name": "x"} for i in ids}, on_progress=boom
            )
    assert result.ok
    assert len(result) == 5
    assert "progress bar broke" in caplog.text


# -- 14. the target= deprecation names the caller's line ---------------------------------


async def test_target_deprecation_points_at_the_async_caller(fake: FakeLettr) -> None:
    hook = fake.add_webhook(name="n", url="https://example.com/old")
    async with make_client(fake) as client:
        with pytest.warns(DeprecationWarning, match="target") as record:
            await client.webhooks.update(hook["id"], target="https://example.com/new")
    assert record[0].filename == __file__


async def test_target_deprecation_in_update_many_points_at_the_caller(fake: FakeLettr) -> None:
    hook = fake.add_webhook(name="n", url="https://example.com/old")
    async with make_client(fake) as client:
        with pytest.warns(DeprecationWarning, match="target") as record:
            result = await client.webhooks.update_many(
                {hook["id"]: {"target": "https://example.com/new"}}
            )
    assert result.ok
    assert record[0].filename == __file__
    assert fake.webhooks[hook["id"]]["url"] == "https://example.com/new"


def test_target_deprecation_points_at_the_sync_caller(fake_thread: FakeLettr) -> None:
    import lettr_sync

    hook = fake_thread.add_webhook(name="n", url="https://example.com/old")
    with (
        lettr_sync.Lettr(API_KEY, base_url=fake_thread.base_url, rate_limit=None) as client,
        pytest.warns(DeprecationWarning, match="target") as record,
    ):
        client.webhooks.update(hook["id"], target="https://example.com/new")
    assert record[0].filename == __file__
    assert fake_thread.webhooks[hook["id"]]["url"] == "https://example.com/new"


def test_target_deprecation_in_validate_update_fields_points_at_the_caller() -> None:
    from lettr_async import validate_update_fields

    with pytest.warns(DeprecationWarning, match="target") as record:
        checked = validate_update_fields({"target": "https://example.com/new"})
    assert checked == {"url": "https://example.com/new"}
    assert record[0].filename == __file__
    with pytest.raises(TypeError, match="not both"):
        validate_update_fields({"target": "https://example.com/a", "url": "https://example.com/b"})


# -- body size cap -------------------------------------------------------------------------


async def test_an_oversized_body_is_refused() -> None:
    async with (
        raw_server(_huge) as server,
        AsyncLettr(API_KEY, base_url=server.base_url, rate_limit=None) as client,
    ):
        with pytest.raises(UnexpectedResponseError, match="larger than"):
            await client.webhooks.list(max_retries=0)


@pytest.mark.parametrize("status", [200, 500])
async def test_a_deeply_nested_body_is_a_typed_error(status: int) -> None:
    deep = b"[" * 200_000 + b"]" * 200_000  # RecursionError in json.loads on every Python

    async def nested(seen: Seen) -> bytes:
        return response(status, deep)

    async with (
        raw_server(nested) as server,
        AsyncLettr(API_KEY, base_url=server.base_url, rate_limit=None) as client,
    ):
        expected = UnexpectedResponseError if status == 200 else ServerError
        with pytest.raises(expected) as caught:
            await client.webhooks.list(max_retries=0)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


# -- proxies from the environment ------------------------------------------------------------


async def test_http_proxy_from_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    seen_targets: list[str] = []

    async def proxy(seen: Seen) -> bytes | None:
        seen_targets.append(seen.path)
        return response()

    async with raw_server(proxy) as server:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with pytest.warns(InsecureBaseURLWarning):  # plain http to another host
            client = AsyncLettr(API_KEY, base_url="http://lettr.invalid/api", rate_limit=None)
        async with client:
            assert await client.webhooks.list() == []
    assert seen_targets == ["http://lettr.invalid/api/webhooks"]


async def test_no_proxy_exempts_the_api_host(monkeypatch: pytest.MonkeyPatch) -> None:
    async with raw_server() as server:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.port}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        direct = f"http://127.0.0.1:{closed_port()}/api"
        async with AsyncLettr(API_KEY, base_url=direct, rate_limit=None, max_retries=0) as client:
            with pytest.raises(APIConnectionError):
                await client.webhooks.list()
    assert server.seen == []  # went straight to the (closed) host, not through the proxy


def test_a_sync_call_without_timeout_is_not_frozen_by_a_huge_retry_after(
    fake_thread: FakeLettr,
) -> None:
    import lettr_sync

    fake_thread.inject(Fault.status(429, headers={"Retry-After": "86400"}))
    policy = RetryPolicy(backoff_initial=0.01, backoff_max=0.05, max_retry_after=0.3)
    with lettr_sync.Lettr(
        API_KEY, base_url=fake_thread.base_url, rate_limit=None, timeout=None, retry_policy=policy
    ) as client:
        started = time.monotonic()
        assert client.webhooks.list() == []
        # Waited the capped 0.3 s, not a day (the call has no timeout to stop it).
        assert 0.29 <= time.monotonic() - started < 60
    assert [r.status for r in fake_thread.requests] == [429, 200]
