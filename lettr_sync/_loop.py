"""``LoopThread``: an asyncio event loop in a daemon thread, with an orderly shutdown.

Why not ``anyio.from_thread.start_blocking_portal``: up to anyio 4.5 its loop
runs in a ``ThreadPoolExecutor`` worker, which ``threading`` joins at
interpreter exit *before* ``atexit`` hooks run, so a client left open hung
the interpreter forever. Its portal also tracks only the tasks it started
itself, so closing could not cancel calls submitted straight to the loop
(the fast path) before the session was closed under them. This module owns
both: a daemon thread that never needs joining at exit, and a register of
every call in flight, so shutdown is "refuse new calls, cancel those in
flight, run the finaliser, stop the loop", in that order.

Only public ``asyncio`` and ``threading`` APIs are used.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["LoopThread", "running_loop"]

T = TypeVar("T")


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in the calling thread, or None.

    The public twin of the private ``asyncio._get_running_loop``: the one place
    this package asks, so a sync call can warn (or refuse) inside a loop.
    """
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class LoopThread:
    """One event loop in one daemon thread, started by the constructor.

    ``submit`` runs a coroutine there and returns a ``concurrent.futures``
    future; ``shutdown`` (from any thread, including the loop's own) cancels
    what is in flight, awaits a finaliser and stops the loop. The thread is a
    daemon so interpreter exit never waits for it; ``shutdown`` joins it
    unless it is called from the loop thread itself, which cannot join itself.
    """

    def __init__(self, name: str) -> None:
        """Start the thread and wait until its loop runs."""
        self._calls: set[asyncio.Task[Any]] = set()
        self._accepting = True
        self._stopping: asyncio.Future[None] | None = None
        self._shutdown_started = False
        self._shutdown_lock = threading.Lock()
        self._shutdown_task: asyncio.Task[None] | None = None
        self._ready: Future[asyncio.AbstractEventLoop] = Future()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()
        self.loop = self._ready.result()

    @property
    def in_loop_thread(self) -> bool:
        """True when called from this loop's own thread."""
        return threading.current_thread() is self._thread

    @property
    def alive(self) -> bool:
        """True until the loop has stopped and its thread has finished."""
        return self._thread.is_alive()

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # pragma: no cover - the loop failed to start
            if not self._ready.done():
                self._ready.set_exception(exc)
            raise

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        self._stopping = loop.create_future()
        self._ready.set_result(loop)
        await self._stopping
        # asyncio.run then cancels any stray task, shuts down async generators
        # and the default executor, and closes the loop.

    def submit(
        self, start: Callable[[], Coroutine[Any, Any, T]], future: Future[T] | None = None
    ) -> Future[T]:
        """Run ``start()`` in the loop as a tracked call that ``shutdown`` cancels.

        ``future`` (made here if not given) receives the outcome. A caller that
        must be able to cancel no matter where an interrupt lands creates it
        *before* submitting: Ctrl-C raised anywhere inside this method, even
        after the call reached the loop, then still cancels it through that
        future, never leaving it running unobserved. ``start`` is called in
        the loop, only if the call still has to run: a call whose future was
        cancelled while it waited in the loop's queue, or that reaches the
        loop after shutdown began, never starts, so it sends nothing and
        leaves no coroutine unawaited. The caller sees ``CancelledError``
        either way. Raises ``RuntimeError`` if the loop is closed.
        """
        outcome: Future[T] = Future() if future is None else future
        loop = self.loop

        def begin() -> None:  # in the loop
            if outcome.cancelled():
                return  # given up before it reached the loop: nothing was created
            task = loop.create_task(self._tracked(start, outcome))
            _link(task, outcome, loop)

        loop.call_soon_threadsafe(begin)
        return outcome

    async def _tracked(self, start: Callable[[], Coroutine[Any, Any, T]], outcome: Future[T]) -> T:
        if not self._accepting or outcome.cancelled():
            raise asyncio.CancelledError
        task = asyncio.current_task()
        assert task is not None
        self._calls.add(task)
        try:
            return await start()
        finally:
            self._calls.discard(task)

    def shutdown(self, finalizer: Callable[[], Awaitable[None]]) -> None:
        """Refuse new calls, cancel those in flight, await ``finalizer``, stop the loop.

        Idempotent (the first finaliser wins). From another thread this blocks
        until the thread has ended; from the loop thread it only schedules
        the shutdown, which runs as soon as the current callback yields.
        """
        with self._shutdown_lock:
            first = not self._shutdown_started
            self._shutdown_started = True
        if self.in_loop_thread:
            if first:
                self._shutdown_task = self.loop.create_task(self._shutdown(finalizer))
            return
        if first:
            shutdown = self._shutdown(finalizer)
            try:
                asyncio.run_coroutine_threadsafe(shutdown, self.loop)
            except RuntimeError:  # pragma: no cover - the loop already ended
                shutdown.close()
        self._thread.join()

    def join(self) -> None:
        """Wait for the thread to end (after a shutdown); no-op from the loop thread."""
        if not self.in_loop_thread:
            self._thread.join()

    async def _shutdown(self, finalizer: Callable[[], Awaitable[None]]) -> None:
        self._accepting = False
        in_flight = [task for task in self._calls if task is not asyncio.current_task()]
        for task in in_flight:
            task.cancel()
        try:
            if in_flight:
                await asyncio.wait(in_flight)
            await finalizer()
        finally:
            assert self._stopping is not None
            if not self._stopping.done():
                self._stopping.set_result(None)


def _link(task: asyncio.Task[T], outcome: Future[T], loop: asyncio.AbstractEventLoop) -> None:
    """Cancelling ``outcome`` (any thread) cancels ``task``; ``task``'s result settles ``outcome``.

    What ``asyncio.run_coroutine_threadsafe`` does, for a future the caller
    already holds. ``outcome`` stays pending until the task is done, so a
    ``cancel()`` from the waiting thread always takes effect.
    """

    def cancel_task(settled: Future[T]) -> None:  # in the cancelling thread
        if settled.cancelled():
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(task.cancel)

    def settle(finished: asyncio.Task[T]) -> None:  # in the loop
        if finished.cancelled():
            outcome.cancel()
        elif outcome.set_running_or_notify_cancel():
            error = finished.exception()
            if error is None:
                outcome.set_result(finished.result())
            else:
                outcome.set_exception(error)

    outcome.add_done_callback(cancel_task)
    task.add_done_callback(settle)
