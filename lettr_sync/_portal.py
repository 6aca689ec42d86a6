"""``CallPortal``: anyio's blocking portal, plus the register of calls that closing needs.

The event loop of a sync client is anyio's: ``anyio.from_thread.start_blocking_portal``
runs it in a daemon thread (anyio >= 4.5; earlier, a thread-pool worker that
interpreter exit joined before ``atexit`` hooks, so an open client hung exit).
A call enters that loop in one hop, ``anyio.from_thread.run(..., token=token)``
with the token taken inside the loop (anyio >= 4.11); ``portal.call`` would
spawn a task in the portal's task group first and cost a second hop, which
only the rare lifecycle steps take.

What anyio does not know, this module adds, kept off the per-call path as
far as it can be (a sync call is one ``from_thread.run`` hop and little else):

* the caller registers its ``Call`` in a set before the hop and removes it
  after (``set.add`` and ``set.discard``, no lock): the portal is stopped only
  once that set is empty, so no call is ever submitted to a loop that has
  stopped taking work (that would wait for ever); a call registered after
  ``request_close`` is refused before the hop, so the client needs no lock
  of its own per call either;
* the hop runs ``_enter``, a plain function that anyio's task wrapper
  awaits the result of: it records the call's task, refuses a call given up
  or arriving after closing began, and returns the call's own coroutine, so
  the facade adds no coroutine layer of its own to the call;
* shutdown is one task started with the portal, woken by ``request_close``
  from any thread (including the loop's own, say from a bulk ``on_progress``
  callback), that refuses new calls, cancels the tasks of the calls in
  flight (those of the registered callers, and those whose caller gave up
  but which are still unwinding) and waits for them, then awaits the
  finaliser, in that order; ``finish`` (never from the loop thread) then
  stops the portal and joins its thread. A call is cancelled with
  ``Task.cancel()`` in the loop, which is what cancelling the future of the
  hop anyio takes on asyncio would do; an anyio ``CancelScope`` per call
  measured 30 to 60 us more per call, as each call is a new task the scope
  must register.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

import anyio
from anyio import from_thread
from anyio.abc import TaskStatus
from anyio.lowlevel import current_token

__all__ = ["Call", "CallCancelled", "CallPortal", "running_loop"]

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


class CallCancelled(Exception):
    """A call was refused or cancelled in the loop: its caller gave up, or closing began."""


class Call(Generic[T]):
    """One sync call: what to run in the loop, and whether its caller gave up.

    Made by the caller *before* anything is submitted, so an interrupt that
    lands anywhere afterwards can still reach it.
    """

    __slots__ = ("given_up", "start", "task")

    def __init__(self, start: Callable[[], Coroutine[Any, Any, T]]) -> None:
        self.start = start
        self.given_up = False
        self.task: asyncio.Task[Any] | None = None


class CallPortal:
    """One anyio blocking portal (its loop in a daemon thread) running sync calls.

    Started by the constructor; ``finaliser`` is awaited in the loop by the
    shutdown, after the calls in flight were cancelled.
    """

    def __init__(self, name: str, finaliser: Callable[[], Awaitable[None]]) -> None:
        """Start the portal and its shutdown task; return once both run."""
        self._finaliser = finaliser
        self._inside: set[Call[Any]] = set()
        """Calls whose caller is inside ``run``."""
        self._abandoned: set[Call[Any]] = set()
        """In the loop only: calls given up while running, until their task is done."""
        self._accepting = True
        self._lock = threading.Lock()
        self._left = threading.Condition(self._lock)
        """Notified when a caller leaves ``run`` after closing began."""
        self._close_requested = False
        self._stopping = threading.Lock()
        self._stopped = False
        self._manager = from_thread.start_blocking_portal(name=name)
        self.portal = self._manager.__enter__()
        self.thread, self.token = self.portal.call(_where_am_i)
        self._shutdown, self._wake = self.portal.start_task(self._serve)

    @property
    def in_loop_thread(self) -> bool:
        """True when called from the portal's own thread."""
        return threading.current_thread() is self.thread

    def run(self, call: Call[T]) -> T:
        """Run ``call`` in the loop (one hop) and return its result.

        If the wait is interrupted (Ctrl-C, whatever moment it lands), the call
        is cancelled in the loop, or never starts, before the exception goes
        on. A call refused or cancelled in the loop, or reaching the portal
        after ``request_close``, raises ``CallCancelled`` (anyio hands a
        cancelled call back as asyncio's ``CancelledError``).
        """
        try:
            # Registered first, the flag read second; request_close sets the
            # flag first, and the shutdown and finish read the register
            # second: one of them sees the other, so the call is either
            # waited for (and cancelled or refused in the loop) or refused here.
            self._inside.add(call)
            if self._close_requested:
                raise CallCancelled
            return from_thread.run(_enter, self, call, token=self.token)
        except (CallCancelled, asyncio.CancelledError, concurrent.futures.CancelledError):
            raise CallCancelled from None
        except BaseException:
            self._give_up(call)
            raise
        finally:
            # Removed first, the flag read second (the same pairing as above).
            self._inside.discard(call)
            if self._close_requested:
                with self._lock:
                    self._left.notify_all()

    def _give_up(self, call: Call[Any]) -> None:
        """The caller stopped waiting: cancel the call, or make sure it never starts.

        The caller is still registered inside, so the loop is still running
        and the hop that cancels a started call returns.
        """
        call.given_up = True
        if call.task is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                from_thread.run_sync(self._cancel_abandoned, call, token=self.token)

    def _cancel_abandoned(self, call: Call[Any]) -> None:  # in the loop
        """Cancel a call its caller gave up; the shutdown still waits for it until it is done."""
        task = call.task
        assert task is not None
        if task.cancel():
            self._abandoned.add(call)
            task.add_done_callback(lambda _: self._abandoned.discard(call))

    async def _serve(self, *, task_status: TaskStatus[anyio.Event]) -> None:
        wake = anyio.Event()
        task_status.started(wake)
        await wake.wait()
        self._accepting = False  # in the loop, as every _enter: no lock needed
        # Every call started so far (it passed _enter) is registered or abandoned.
        running = {
            task
            for call in (*self._inside, *self._abandoned)
            if (task := call.task) is not None and not task.done()
        }
        if running:
            for task in running:
                task.cancel()
            await asyncio.wait(running)
        await self._finaliser()

    def request_close(self) -> None:
        """Begin the shutdown (idempotent), from any thread; does not wait for it."""
        with self._lock:
            first = not self._close_requested
            self._close_requested = True
        if not first:
            return
        if self.in_loop_thread:
            self._wake.set()
        else:
            self.portal.call(self._wake.set)

    def finish(self) -> None:
        """After ``request_close``: wait for the shutdown, then stop the portal and its thread.

        Not from the loop thread (it cannot join itself). The portal stops
        once no caller is inside ``run``; every one of them leaves, as the
        shutdown cancelled or refused its call. Raises what the finaliser raised.
        """
        try:
            self._shutdown.result()
        finally:
            with self._lock:
                self._left.wait_for(lambda: not self._inside)
            with self._stopping:  # the first one stops it; the others wait for that
                if not self._stopped:
                    self._manager.__exit__(None, None, None)
                    self._stopped = True

    def abandon(self) -> None:
        """In a forked child: this portal's thread does not exist here; never wait for it.

        ``BlockingPortal.stop`` marks the portal stopped before it wakes the
        (absent) loop, and awaits nothing, so driving it one step here is
        enough for the portal's context manager to exit at once if it is ever
        finalised (instead of waiting for a loop that will never run).
        """
        self._stopped = True
        stopping = self.portal.stop()
        try:
            stopping.send(None)
        except (StopIteration, RuntimeError):  # done; or asyncio debug mode refused the wake-up
            return
        stopping.close()  # a later anyio whose stop() awaits: marked stopped all the same


def _enter(portal: CallPortal, call: Call[T]) -> Coroutine[Any, Any, T]:  # in the loop
    """Start ``call`` in its task: record the task, refuse a call given up or too late.

    A plain function, not a coroutine: anyio's task wrapper awaits what it
    returns, the call's own coroutine, so no frame of ours stays on the
    call's stack. No lock against ``CallPortal._give_up``: each side writes
    its own field, then reads the other's (task here, given_up there), so at
    least one of them sees the other and the call is either refused here or
    cancelled there.
    """
    call.task = asyncio.current_task()
    if call.given_up or not portal._accepting:
        raise CallCancelled  # never started: nothing was sent or created
    return call.start()


def _where_am_i() -> tuple[threading.Thread, Any]:
    """The portal's thread and the token of its loop (called in that loop)."""
    return threading.current_thread(), current_token()
