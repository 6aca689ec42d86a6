"""The sync client: drop-in use, pooling, threads, lifecycle, loops and cancellation."""

from __future__ import annotations

import asyncio
import inspect
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

import lettr_async
import lettr_sync
from lettr_async import AsyncLettr
from lettr_async.testing import FakeLettr, Fault
from lettr_sync._client import ClientState
from tests.helpers import API_KEY

from .conftest import make_sync_client, press_ctrl_c_during


def _wait_until(condition: Callable[[], bool], limit: float = 30.0) -> None:
    """Poll a cross-thread condition; fails (instead of hanging) if it never holds."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition never became true")
        time.sleep(0.005)


def _new_threads(before: set[threading.Thread]) -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t not in before and t.is_alive()}


def test_reexports_everything_lettr_async_exports_except_async_classes() -> None:
    expected = set(lettr_async.__all__) - {"AsyncLettr", "AsyncWebhooks"}
    assert expected <= set(lettr_sync.__all__)
    for name in expected:
        assert getattr(lettr_sync, name) is getattr(lettr_async, name)
    assert {"Lettr", "Webhooks", "SyncInAsyncContextWarning"} <= set(lettr_sync.__all__)


def test_drop_in_snippet_runs_unchanged(fake_thread: FakeLettr) -> None:
    fake_thread.add_webhook(name="Existing", url="https://example.com/existing")
    lettr = lettr_sync
    lines: list[str] = []

    def print(*args: object) -> None:
        lines.append(" ".join(str(a) for a in args))

    # --- Lettr's README snippet; only base_url and rate_limit added -------------
    client = lettr.Lettr("lttr_test_key", base_url=fake_thread.base_url, rate_limit=None)
    for webhook in client.webhooks.list():
        print(webhook.name, webhook.url, webhook.enabled, webhook.auth_type, webhook.last_status)
        if webhook.event_types is None:
            print("all events")
    webhook = client.webhooks.create(
        name="Production events",
        url="https://example.com/webhooks/lettr",
        auth_type="none",
        events_mode="selected",
        events=["message.delivery", "message.bounce", "engagement.click"],
    )
    client.webhooks.update(webhook.id, name="Renamed Webhook", active=False)
    client.webhooks.delete(webhook.id)
    # ------------------------------------------------------------------------------
    client.close()

    assert lines == ["Existing https://example.com/existing True none None", "all events"]
    assert [(r.method, r.status) for r in fake_thread.requests] == [
        ("GET", 200),
        ("POST", 201),
        ("PUT", 200),
        ("DELETE", 200),
    ]
    assert fake_thread.requests[2].json == {"name": "Renamed Webhook", "active": False}
    assert list(fake_thread.webhooks) != [webhook.id]


def test_construction_and_import_start_no_thread() -> None:
    before = set(threading.enumerate())
    client = lettr_sync.Lettr(API_KEY, base_url="http://127.0.0.1:9/api")
    view = client.with_options(timeout=1)
    assert _new_threads(before) == set()
    client.close()
    assert view.is_closed
    with pytest.raises(lettr_sync.LettrError, match="closed"):
        view.webhooks.list()


def test_invalid_settings_fail_at_construction() -> None:
    with pytest.raises(lettr_sync.ValidationError):
        lettr_sync.Lettr(API_KEY, base_url="not a url")
    with pytest.raises(lettr_sync.ValidationError):
        lettr_sync.Lettr(API_KEY, base_url="http://127.0.0.1:9/api").with_options(timeout=-1)


def test_sequential_calls_reuse_one_connection(
    fake_thread: FakeLettr, client: lettr_sync.Lettr
) -> None:
    created = client.webhooks.create(
        name="One", url="https://example.com/one", auth_type="none", events_mode="all"
    )
    for _ in range(99):
        assert client.webhooks.get(created.id).id == created.id
    assert len(fake_thread.requests) == 100
    # A create always gets a fresh connection (never a kept-alive one the server
    # may have just closed); the 99 gets share one pooled connection.
    assert fake_thread.connections_opened == 2


def test_one_client_shared_by_32_threads(fake_thread: FakeLettr, client: lettr_sync.Lettr) -> None:
    hook = fake_thread.add_webhook(name="Shared", url="https://example.com/shared")
    start = threading.Barrier(32)

    def worker(index: int) -> int:
        start.wait()
        done = 0
        for call in range(20):
            if call % 2:
                assert client.webhooks.get(hook["id"]).name == "Shared"
            else:
                assert [w.id for w in client.webhooks.list()] == [hook["id"]]
            done += 1
        return done

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(worker, range(32)))
    assert results == [20] * 32
    # Exactly one request per call, each answered: the fake never closes a
    # kept-alive connection, so nothing is retried. (Extra requests and a 400
    # for "HTTP/1.1 200 OK" received as a request were aiohttp < 3.13 mixing
    # the headers of this loop thread and the fake's: tests/test_aiohttp_floor.py.)
    assert [r.status for r in fake_thread.requests] == [200] * 640
    # Every thread went through the same pooled session: at most one connection
    # per concurrently in-flight request, far fewer than 640.
    assert fake_thread.connections_opened <= 32


def test_close_joins_the_portal_thread(fake_thread: FakeLettr) -> None:
    before = set(threading.enumerate())
    with make_sync_client(fake_thread) as client:
        client.webhooks.list()
        assert len(_new_threads(before)) == 1
    assert _new_threads(before) == set()
    assert client.is_closed
    with pytest.raises(lettr_sync.LettrError, match="closed"):
        client.webhooks.list()
    client.close()  # idempotent


def test_with_options_view_shares_the_runtime(
    fake_thread: FakeLettr, client: lettr_sync.Lettr
) -> None:
    view = client.with_options(timeout=5, max_retries=0)
    assert (view.timeout, view.max_retries) == (5.0, 0)
    assert (client.timeout, client.max_retries) == (30.0, 2)
    assert view.base_url == client.base_url == fake_thread.base_url
    assert view.webhooks.list() == client.webhooks.list() == []
    assert fake_thread.connections_opened == 1
    assert view.rate_limit_info == client.rate_limit_info
    assert client.rate_limit_info.limit is not None
    assert client.rate_limit is None  # the configured budget: pacing off
    assert repr(view) == f"Lettr(base_url={fake_thread.base_url!r})"


def test_api_errors_are_the_async_cores_errors(client: lettr_sync.Lettr) -> None:
    with pytest.raises(lettr_sync.NotFoundError):
        client.webhooks.get("webhook-missing")
    with pytest.raises(lettr_sync.ValidationError):
        client.webhooks.update("webhook-x")  # no field at all: refused before sending


def test_bulk_through_the_portal(fake_thread: FakeLettr, client: lettr_sync.Lettr) -> None:
    progress: list[int] = []
    result = client.webhooks.create_many(
        [
            {
                "name": f"n{i}",
                "url": f"https://example.com/{i}",
                "auth_type": "none",
                "events_mode": "all",
            }
            for i in range(5)
        ],
        on_progress=lambda done, total: progress.append(done),
    )
    assert result.ok
    assert sorted(progress) == [1, 2, 3, 4, 5]
    deleted = client.webhooks.delete_many([o.value.id for o in result.outcomes if o.value])
    assert deleted.ok
    assert fake_thread.webhooks == {}


def test_call_inside_a_running_loop_works_and_warns_once(
    fake_thread: FakeLettr, client: lettr_sync.Lettr
) -> None:
    async def notebook_cell() -> int:
        with pytest.warns(lettr_sync.SyncInAsyncContextWarning, match="AsyncLettr") as record:
            first = client.webhooks.list()
        assert record[0].filename == __file__  # points at the caller's line
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            second = client.webhooks.list()
        return len(first) + len(second)

    assert asyncio.run(notebook_cell()) == 0
    assert len(fake_thread.requests) == 2


def test_call_from_the_portal_loop_itself_is_refused(client: lettr_sync.Lettr) -> None:
    async def reenter(_: AsyncLettr) -> object:
        return client.webhooks.list()

    with pytest.raises(lettr_sync.LettrError, match="deadlock"):
        client._run(reenter)
    assert client.webhooks.list() == []


def test_timeout_cancels_and_client_stays_usable(
    fake_thread: FakeLettr, client: lettr_sync.Lettr
) -> None:
    fake_thread.inject(Fault.delay(30), method="GET", path="/webhooks")
    with pytest.raises(lettr_sync.APITimeoutError):
        client.webhooks.list(timeout=0.2, max_retries=0)
    assert client.webhooks.list() == []


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs pthread_kill")
def test_ctrl_c_cancels_the_coroutine_in_the_portal(
    fake_thread: FakeLettr, client: lettr_sync.Lettr
) -> None:
    fake_thread.inject(Fault.delay(30), method="GET", path="/webhooks")
    cancelled = threading.Event()

    async def list_and_watch(c: AsyncLettr) -> object:
        try:
            return await c.webhooks.list(max_retries=0)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    press_ctrl_c_during(
        lambda: client._run(list_and_watch),
        when=lambda: _wait_until(lambda: len(fake_thread.requests) == 1),  # the call is in flight
    )
    assert cancelled.wait(30)
    # Same path as every generated method; the client is still usable.
    assert client.webhooks.list() == []
    assert fake_thread.requests[0].status == 0  # never answered: the client went away


def test_ctrl_c_landing_just_after_the_call_reached_the_loop_still_cancels_it(
    fake_thread: FakeLettr,
    client: lettr_sync.Lettr,
    interrupt_after_submit: Callable[[], None],
) -> None:
    # On a busy machine the signal handler can run after the call was handed
    # to the loop but before the caller reached its wait: the interrupt is
    # raised inside anyio's from_thread.run. Simulated exactly here, without a signal.
    fake_thread.inject(Fault.delay(30), method="GET", path="/webhooks")
    started, cancelled, finished = threading.Event(), threading.Event(), threading.Event()

    async def list_and_watch(c: AsyncLettr) -> object:
        started.set()
        try:
            return await c.webhooks.list(max_retries=0)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        finally:
            finished.set()

    with pytest.raises(KeyboardInterrupt):
        client._run(list_and_watch)
    # Once the submission settled, the call has either been refused (never
    # started) or started and been cancelled.
    interrupt_after_submit()
    assert not started.is_set() or (finished.wait(30) and cancelled.is_set())
    with pytest.raises(lettr_sync.NotFoundError):
        client.webhooks.get("webhook-missing")


_EXIT_SCRIPT = """
import lettr_sync
from lettr_async.testing import FakeLettr

with FakeLettr.in_thread() as fake:
    client = lettr_sync.Lettr("lttr_test_key", base_url=fake.base_url, rate_limit=None)
    assert client.webhooks.list() == []
    view = client.with_options(timeout=3)
    assert view.webhooks.list() == []
print("exiting with the client open")
"""


@pytest.mark.slow
def test_unclosed_client_is_closed_at_exit_without_warnings() -> None:
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", _EXIT_SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "exiting with the client open\n"


def test_close_with_a_call_in_flight_in_another_thread(fake_thread: FakeLettr) -> None:
    fake_thread.inject(Fault.delay(30), method="GET", path="/webhooks")
    client = make_sync_client(fake_thread)
    before = set(threading.enumerate())
    failures: list[BaseException] = []

    def caller() -> None:
        try:
            client.webhooks.list(max_retries=0)
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=caller)
    thread.start()
    _wait_until(lambda: len(fake_thread.requests) == 1)
    client.close()
    thread.join()
    assert len(failures) == 1
    # Exactly the documented error, not a retryable network error (such as
    # APIConnectionError('Connector is closed'), a LettrError subclass) from
    # the session being closed under the call.
    assert type(failures[0]) is lettr_sync.LettrError, repr(failures[0])
    assert "has been closed" in str(failures[0])
    assert _new_threads(before) == set()
    assert client.state is ClientState.CLOSED


def test_constructor_mirrors_async_lettr_but_http_session() -> None:
    sync_signature = inspect.signature(lettr_sync.Lettr.__init__)
    async_signature = inspect.signature(AsyncLettr.__init__)
    assert sync_signature == async_signature.replace(
        parameters=[p for p in async_signature.parameters.values() if p.name != "http_session"]
    )
    # A caller's aiohttp session belongs to its own loop; the sync client's loop is private.
    with pytest.raises(TypeError, match="http_session"):
        lettr_sync.Lettr("lttr_x", http_session=None)  # type: ignore[call-arg]
    assert inspect.signature(lettr_sync.Lettr.with_options) == inspect.signature(
        AsyncLettr.with_options
    ).replace(return_annotation="Self")
