"""``CallPortal``: anyio's blocking portal behind ``lettr_sync.Lettr``, and nothing of our own."""

from __future__ import annotations

import ast
import asyncio
import gc
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import pytest
from anyio import from_thread
from anyio.from_thread import BlockingPortal

import lettr_sync
from lettr_async import AsyncLettr
from lettr_sync._client import Call, CallCancelled, CallPortal

from .conftest import press_ctrl_c_during


async def _nothing() -> None:
    """A finaliser with nothing to close."""


@pytest.fixture
def portal(request: pytest.FixtureRequest) -> Iterator[CallPortal]:
    """A started ``CallPortal`` named after the test, always shut down afterwards."""
    started = CallPortal(f"portal-{request.node.name}", _nothing)
    try:
        yield started
    finally:
        started.request_close()
        started.finish()


def test_call_given_up_before_it_starts_leaves_no_unawaited_coroutine(
    portal: CallPortal, interrupt_after_submit: Callable[[], None]
) -> None:
    gate = threading.Event()
    started: list[str] = []

    async def work() -> str:
        started.append("work")
        return "done"

    # Block the loop so the call is still queued when its caller gives up
    # (what Ctrl-C right after submitting does).
    portal.portal.start_task_soon(gate.wait)
    with pytest.raises(KeyboardInterrupt):
        portal.run(Call(work))
    gate.set()
    interrupt_after_submit()
    gc.collect()  # an unawaited coroutine would warn here: an error in this suite
    assert started == []


def test_shutdown_cancels_calls_in_flight_then_runs_the_finaliser() -> None:
    order: list[str] = []
    running = threading.Event()
    outcome: list[BaseException] = []

    async def forever() -> None:
        running.set()
        try:
            await anyio.Event().wait()
        finally:
            order.append("call cancelled")

    async def finaliser() -> None:
        order.append("finaliser")

    portal = CallPortal("portal-shutdown", finaliser)

    def caller() -> None:
        try:
            portal.run(Call(forever))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=caller)
    thread.start()
    assert running.wait(30)
    portal.request_close()
    portal.finish()
    thread.join()
    assert order == ["call cancelled", "finaliser"]
    assert [type(exc) for exc in outcome] == [CallCancelled]
    assert not portal.thread.is_alive()
    with pytest.raises(RuntimeError):  # the portal has stopped
        portal.portal.call(_nothing)


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs pthread_kill")
def test_shutdown_waits_for_a_call_whose_caller_gave_up_before_the_finaliser() -> None:
    # Ctrl-C cancels the call, but its coroutine takes a while to unwind (say
    # an async context manager's exit): closing must not close the session
    # under it, although its caller has left.
    order: list[str] = []
    running, reached = threading.Event(), threading.Event()
    unwind: list[asyncio.Event] = []

    async def slow_to_unwind() -> None:
        unwind.append(asyncio.Event())
        running.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            order.append("cancelled")
            while not unwind[0].is_set():
                try:
                    await unwind[0].wait()
                except asyncio.CancelledError:
                    order.append("cancelled by the shutdown")
                    reached.set()
            order.append("unwound")
            raise

    async def finaliser() -> None:
        order.append("finaliser")

    portal = CallPortal("portal-given-up", finaliser)

    press_ctrl_c_during(lambda: portal.run(Call(slow_to_unwind)), when=lambda: running.wait(30))

    def close() -> None:
        portal.request_close()
        portal.finish()

    closer = threading.Thread(target=close)
    closer.start()
    reached_in_time = reached.wait(30)
    from_thread.run_sync(unwind[0].set, token=portal.token)
    closer.join()
    assert reached_in_time
    assert order == ["cancelled", "cancelled by the shutdown", "unwound", "finaliser"]


def test_a_call_after_request_close_is_refused_before_it_reaches_the_loop(
    portal: CallPortal,
) -> None:
    started: list[str] = []

    async def work() -> None:
        started.append("work")

    portal.request_close()
    with pytest.raises(CallCancelled):
        portal.run(Call(work))
    gc.collect()  # an unawaited coroutine would warn here: an error in this suite
    assert started == []


def test_thread_is_a_daemon_so_exit_never_joins_it_before_atexit(
    portal: CallPortal, request: pytest.FixtureRequest
) -> None:
    name = f"portal-{request.node.name}"
    assert [t.daemon for t in threading.enumerate() if t.name == name] == [True]


def test_close_from_the_loop_thread_begins_instead_of_joining(portal: CallPortal) -> None:
    def from_inside() -> bool:
        portal.request_close()  # would deadlock if it joined its own thread
        return True

    assert portal.portal.call(from_inside)
    portal.finish()
    assert not portal.thread.is_alive()


# -- the loop is anyio's --------------------------------------------------------------------


def test_calls_run_in_the_loop_of_an_anyio_blocking_portal(client: lettr_sync.Lettr) -> None:
    seen: list[tuple[threading.Thread, object]] = []

    async def probe(c: AsyncLettr) -> object:
        seen.append((threading.current_thread(), anyio.get_current_task().id))
        return await c.webhooks.list()

    assert client._run(probe) == []
    portal = client._runtime.portal
    assert portal is not None
    assert isinstance(portal.portal, BlockingPortal)
    # The portal's own loop thread is the one the call ran in.
    assert portal.portal.call(threading.current_thread) is seen[0][0]
    assert seen[0][0] is portal.thread
    assert seen[0][0].daemon


_OWN_LOOP_OR_THREAD = {
    "run_coroutine_threadsafe",  # asyncio's hop, bypassing anyio's context
    "start_new_thread",
    "new_event_loop",
    "run_forever",
    "run_until_complete",
    "Runner",  # asyncio.Runner
}
"""Names that have no business anywhere in lettr_sync (used, imported or called)."""

_RUNNERS = {"asyncio", "anyio", "trio"}
"""``<module>.run(...)`` starts an event loop in the calling thread."""


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.alias):
        return node.name.rpartition(".")[2]
    return None


def _own_loops_or_threads(source: str) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        name = _name(node)
        if name in _OWN_LOOP_OR_THREAD:
            found.append(name)
        if isinstance(node, ast.Call):
            called = _name(node.func)
            if called == "Thread":  # starting a thread (a type annotation is fine)
                found.append("Thread()")
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            if called == "run" and isinstance(receiver, ast.Name) and receiver.id in _RUNNERS:
                found.append(f"{receiver.id}.run")  # asyncio.run, anyio.run: a loop of our own
    return found


def test_the_scan_sees_a_hand_written_loop_thread() -> None:
    old_style = (
        "import asyncio, threading\n"
        "from asyncio import run_coroutine_threadsafe\n"
        "t = threading.Thread(target=lambda: asyncio.run(main()))\n"
        "asyncio.run_coroutine_threadsafe(coro, loop)\n"
    )
    assert sorted(_own_loops_or_threads(old_style)) == [
        "Thread()",
        "asyncio.run",
        "run_coroutine_threadsafe",
        "run_coroutine_threadsafe",
    ]


def test_no_module_of_lettr_sync_runs_its_own_loop_or_thread() -> None:
    package = Path(lettr_sync.__file__).parent
    modules = sorted(package.glob("*.py"))
    assert {m.name for m in modules} >= {"_client.py", "_generated.py"}
    found = {m.name: hits for m in modules if (hits := _own_loops_or_threads(m.read_text("utf-8")))}
    assert found == {}
