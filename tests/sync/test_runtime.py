"""The sync runtime: client state, closing from anywhere, exit, fork bounds, re-exports."""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator

import pytest

import lettr_async
import lettr_sync
from lettr_async.testing import FakeLettr
from lettr_sync import _client
from lettr_sync._client import ClientState, running_loop
from tests.helpers import run_python

from .conftest import make_sync_client

_SYNC_ONLY = {"ClientState", "Lettr", "SyncInAsyncContextWarning", "Webhooks"}


# -- state ------------------------------------------------------------------------------


def test_state_moves_unopened_opened_closed(fake_thread: FakeLettr) -> None:
    client = make_sync_client(fake_thread)
    states = [(client.state, client.is_closed)]
    client.webhooks.list()
    states.append((client.state, client.is_closed))
    client.close()
    states.append((client.state, client.is_closed))
    with pytest.raises(lettr_sync.LettrError, match="has been closed"):
        client.webhooks.list()
    states.append((client.state, client.is_closed))
    assert states == [
        (ClientState.UNOPENED, False),
        (ClientState.OPENED, False),
        (ClientState.CLOSED, True),
        (ClientState.CLOSED, True),
    ]


def test_close_from_on_progress_fails_the_bulk_call_cleanly(fake_thread: FakeLettr) -> None:
    client = make_sync_client(fake_thread)
    before = set(threading.enumerate())
    seen: list[int] = []

    def close_midway(done: int, total: int) -> None:
        seen.append(done)
        if done == 2:
            client.close()  # runs in the loop thread: must not join itself

    with pytest.raises(lettr_sync.LettrError, match="has been closed") as caught:
        client.webhooks.create_many(
            [
                {
                    "name": f"n{i}",
                    "url": f"https://example.com/{i}",
                    "auth_type": "none",
                    "events_mode": "all",
                }
                for i in range(50)
            ],
            on_progress=close_midway,
        )
    assert type(caught.value) is lettr_sync.LettrError
    assert 2 in seen
    assert len(seen) < 50  # the rest were cancelled, not sent after the close
    # The shutdown finished before the error reached us: nothing leaks.
    assert client.state is ClientState.CLOSED
    assert {t for t in threading.enumerate() if t not in before and t.is_alive()} == set()
    client.close()  # idempotent afterwards


def test_close_from_the_loop_thread_outside_a_call(fake_thread: FakeLettr) -> None:
    client = make_sync_client(fake_thread)
    client.webhooks.list()
    portal = client._runtime.portal
    assert portal is not None

    def close_in_loop() -> bool:
        client.close()  # begins the shutdown and returns at once
        return True

    assert portal.portal.call(close_in_loop)
    client.close()  # from this thread: waits for that shutdown to finish
    assert client.state is ClientState.CLOSED
    assert not portal.thread.is_alive()


def test_running_loop_is_the_public_api_twin() -> None:
    assert running_loop() is None

    async def inside() -> bool:
        return running_loop() is asyncio.get_running_loop()

    assert asyncio.run(inside())
    assert running_loop() is None


# -- interpreter exit and interrupted calls ----------------------------------------------

_EXIT_SCRIPT = """
import atexit
checks = []
# Registered before lettr_sync's hook, so it runs after it (atexit is LIFO).
atexit.register(lambda: print("closed at exit:", checks[0].is_closed, checks[0].state.name))

import threading
import lettr_sync
from lettr_async.testing import FakeLettr

with FakeLettr.in_thread() as fake:
    client = lettr_sync.Lettr("lttr_test_key", base_url=fake.base_url, rate_limit=None)
    checks.append(client)
    assert client.webhooks.list() == []
    # The loop thread must not be one threading joins at exit before atexit
    # hooks run (anyio < 4.6's portal worker was, and the interpreter hung).
    assert all(t.daemon for t in threading.enumerate() if t is not threading.main_thread())
print("exiting with the client open")
"""


@pytest.mark.slow
def test_open_client_is_closed_by_the_atexit_hook() -> None:
    done = run_python(_EXIT_SCRIPT)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "exiting with the client open\nclosed at exit: True CLOSED\n"


_LEFT_OPEN_SCRIPT = """
import os, sys, warnings
import lettr_sync

base_url, api_key = sys.argv[1:3]
used = lettr_sync.Lettr(api_key, base_url=base_url, rate_limit=None)
assert used.webhooks.list() == []
idle = lettr_sync.Lettr(api_key, base_url=base_url, rate_limit=None)
assert idle.webhooks.list() == []
if sys.argv[3] == "fork":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # forking with threads: the point
        pid = os.fork()
    if pid == 0:
        # The child: a portal of its own for `used`; `idle` only inherited. It
        # leaves through a normal exit (atexit hooks, then finalisers), never
        # having closed either client, like the parent.
        assert used.webhooks.list() == []
        print("child exiting with its clients open", flush=True)
        sys.exit(0)
    _, status = os.waitpid(pid, 0)
    print("child exit code", os.waitstatus_to_exitcode(status), flush=True)
print("exiting with the clients open")
"""


@pytest.fixture(scope="module")
def fake_process() -> Iterator[tuple[str, str]]:
    """``python -m lettr_async.testing`` in its own process: (base URL, the key it printed).

    A separate process, so a forked test child has no server thread of its own
    to stop (or hang on) when it exits.
    """
    with subprocess.Popen(
        [sys.executable, "-m", "lettr_async.testing"], stdout=subprocess.PIPE, text=True
    ) as server:
        try:
            assert server.stdout is not None
            base_url = server.stdout.readline().strip()
            key_line = server.stdout.readline().strip()
            assert base_url.startswith("http://127.0.0.1:")
            assert key_line == "API key: lttr_test_key"  # printed, so nobody has to guess it
            yield base_url, key_line.removeprefix("API key: ")
        finally:
            server.terminate()
        assert server.wait(timeout=60) == 0


@pytest.mark.parametrize(
    "mode",
    [
        "plain",
        pytest.param("fork", marks=pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")),
    ],
)
def test_a_client_left_open_lets_the_process_exit_cleanly(
    fake_process: tuple[str, str], mode: str
) -> None:
    # On the anyio floor and the newest (CI's floors run): the portal thread is
    # a daemon and the atexit hook stops it; no hang (the generous timeout of
    # run_python fails the test instead), no traceback, no warning.
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", _LEFT_OPEN_SCRIPT, *fake_process, mode],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    expected = ["exiting with the clients open"]
    if mode == "fork":
        expected = ["child exiting with its clients open", "child exit code 0", *expected]
    assert done.stdout.splitlines() == expected


_INTERRUPT_SCRIPT = """
import signal, threading, time
import lettr_sync
from lettr_async.testing import FakeLettr, Fault

def new_client(fake):
    client = lettr_sync.Lettr("lttr_test_key", base_url=fake.base_url, rate_limit=None)
    client.webhooks.list()
    return client

def once_in_flight(fake, action):
    seen = len(fake.requests)
    def watch():
        while len(fake.requests) == seen:
            time.sleep(0.001)
        action()
    watcher = threading.Thread(target=watch)
    watcher.start()
    return watcher

def interrupted(call):
    try:
        call()
    except (KeyboardInterrupt, lettr_sync.LettrError):
        return
    raise AssertionError("the call was not interrupted")

# Ctrl-C must raise even when the suite runs as a background job (SIGINT ignored).
signal.signal(signal.SIGINT, signal.default_int_handler)
with FakeLettr.in_thread() as fake:
    main = threading.main_thread().ident
    # 1. Ctrl-C in the waiting thread, then close at once.
    client = new_client(fake)
    fake.inject(Fault.delay(30), method="GET", path="/webhooks")
    watcher = once_in_flight(fake, lambda: signal.pthread_kill(main, signal.SIGINT))
    interrupted(lambda: client.webhooks.list(max_retries=0))
    watcher.join()
    client.close()
    # 2. close() from another thread while the call waits for its answer.
    client = new_client(fake)
    fake.inject(Fault.delay(30), method="GET", path="/webhooks")
    watcher = once_in_flight(fake, client.close)
    interrupted(lambda: client.webhooks.list(max_retries=0))
    watcher.join()
    # 3. close() from a bulk on_progress callback, in the loop thread.
    client = new_client(fake)
    items = [
        {"name": str(i), "url": f"https://example.com/{i}", "auth_type": "none",
         "events_mode": "all"}
        for i in range(20)
    ]
    closer = lambda done, total: client.close() if done == 2 else None
    interrupted(lambda: client.webhooks.create_many(items, on_progress=closer))
    client.close()
print("ok")
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(__import__("signal"), "pthread_kill"), reason="needs pthread_kill")
def test_interrupted_call_then_close_leaves_no_pending_task_or_transport() -> None:
    done = run_python(_INTERRUPT_SCRIPT)
    assert "Task was destroyed" not in done.stderr
    assert "unclosed" not in done.stderr.lower()
    assert (done.returncode, done.stderr, done.stdout) == (0, "", "ok\n")


# -- fork bookkeeping -------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_of_a_fork_keeps_only_the_direct_parents_objects(fake_thread: FakeLettr) -> None:
    client = make_sync_client(fake_thread)
    try:
        client.webhooks.list()
        read_end, write_end = os.pipe()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - child: reports through the pipe
            report = "?"
            try:
                runtime = client._runtime
                client.webhooks.list()
                first = runtime.inherited
                assert first is not None
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    grandchild = os.fork()
                if grandchild == 0:
                    client.webhooks.list()
                    second = runtime.inherited
                    ok = second is not None and second[0] is not first[0]
                    ok = ok and not hasattr(_client, "_graveyard")
                    client.close()
                    os._exit(0 if ok else 1)
                _, status = os.waitpid(grandchild, 0)
                client.close()
                report = f"grandchild={os.waitstatus_to_exitcode(status)}"
            except BaseException as exc:
                report = f"{type(exc).__name__}: {exc}"
            os.write(write_end, report.encode())
            os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            report = pipe.read().decode()
        os.waitpid(pid, 0)
        assert report == "grandchild=0"
        assert client._runtime.inherited is None  # the parent inherited nothing
        assert client.webhooks.list() == []
    finally:
        client.close()


# -- the package namespace --------------------------------------------------------------


def test_all_is_lettr_async_all_minus_async_names_plus_the_sync_client() -> None:
    async_only = {name for name in lettr_async.__all__ if name.startswith("Async")}
    assert async_only >= {"AsyncLettr", "AsyncWebhooks"}
    assert set(lettr_sync.__all__) == (set(lettr_async.__all__) - async_only) | _SYNC_ONLY
    assert len(lettr_sync.__all__) == len(set(lettr_sync.__all__))
    for name in lettr_sync.__all__:
        assert getattr(lettr_sync, name) is not None
    for name in async_only:
        assert not hasattr(lettr_sync, name)


@pytest.fixture
def patched_async_all(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Patch ``lettr_async`` freely; afterwards undo it and reload the real ``lettr_sync``."""
    yield monkeypatch
    monkeypatch.undo()
    for name in ("BrandNewThing", "AsyncBrandNewResource"):
        vars(lettr_sync).pop(name, None)
    importlib.reload(lettr_sync)


def test_a_name_added_to_lettr_async_all_reaches_lettr_sync(
    patched_async_all: pytest.MonkeyPatch,
) -> None:
    sentinel = object()
    patched_async_all.setattr(lettr_async, "BrandNewThing", sentinel, raising=False)
    patched_async_all.setattr(lettr_async, "AsyncBrandNewResource", object(), raising=False)
    patched_async_all.setattr(
        lettr_async, "__all__", [*lettr_async.__all__, "BrandNewThing", "AsyncBrandNewResource"]
    )
    importlib.reload(lettr_sync)
    assert "BrandNewThing" in lettr_sync.__all__
    assert lettr_sync.BrandNewThing is sentinel  # type: ignore[attr-defined]
    assert "AsyncBrandNewResource" not in lettr_sync.__all__
    assert not hasattr(lettr_sync, "AsyncBrandNewResource")


@pytest.mark.slow
def test_events_is_reachable_after_import_lettr_sync() -> None:
    done = run_python(
        "import lettr_sync\n"
        "import lettr_async.events as ev\n"
        "assert lettr_sync.events.parse_event is ev.parse_event\n"
        "print('ok')\n"
    )
    assert (done.returncode, done.stderr, done.stdout) == (0, "", "ok\n")
