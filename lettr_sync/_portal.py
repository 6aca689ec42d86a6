"""``CallPortal``: anyio's blocking portal, plus the register of calls that closing needs.

anyio runs the loop in a daemon thread (``from_thread.start_blocking_portal``,
anyio >= 4.5; before, a thread-pool worker that interpreter exit joined before
``atexit`` hooks, so an open client hung exit). A call enters it in one hop,
``from_thread.run(..., token=token)`` (anyio >= 4.11); ``portal.call`` would
first spawn a task in the portal's task group, a second hop that only the rare
lifecycle steps take.

What anyio does not know is added off that per-call path as far as it can be:
callers register their ``Call`` in a set, so the portal is stopped only once no
caller can still submit to it (a call submitted to a stopped loop waits for
ever), and one shutdown task cancels the calls in flight, waits for them, then
awaits the finaliser. A call is cancelled with ``Task.cancel()`` in the loop, as
cancelling the future of anyio's hop on asyncio would; an anyio ``CancelScope``
per call measured 30 to 60 us more per call, as each call is a new task the
scope must register.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import anyio
from anyio import from_thread
from anyio.abc import TaskStatus
from anyio.lowlevel import current_token

__all__ = ["Call", "CallCancelled", "CallPortal", "running_loop"]

T = TypeVar("T")


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The loop running in this thread, or None: ``asyncio._get_running_loop``'s public twin."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class CallCancelled(Exception):
    """A call was refused or cancelled in the loop: its caller gave up, or closing began."""


@dataclass(eq=False)
class Call(Generic[T]):
    """One sync call, made before anything is submitted so an interrupt landing later reaches it."""

    start: Callable[[], Coroutine[Any, Any, T]]
    given_up: bool = False
    task: asyncio.Task[Any] | None = None


class CallPortal:
    """One anyio blocking portal running sync calls; ``finaliser`` is awaited last in its loop."""

    def __init__(self, name: str, finaliser: Callable[[], Awaitable[None]]) -> None:
        """Start the portal and its shutdown task; return once both run."""
        self._finaliser = finaliser
        self._inside: set[Call[Any]] = set()
        """Calls whose caller is inside ``run``."""
        self._abandoned: set[asyncio.Task[Any]] = set()
        """In the loop only: tasks of calls given up while running, until they are done."""
        self._close_requested = False
        self._left = threading.Condition()
        """Guards the flag; notified when a caller leaves ``run`` after closing began."""
        self._stopping = threading.Lock()
        self._stopped = False
        self._manager = from_thread.start_blocking_portal(name=name)
        self.portal = self._manager.__enter__()
        self.thread, self.token = self.portal.call(
            lambda: (threading.current_thread(), current_token())
        )
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
            # second: one of them sees the other, so the call is either waited
            # for (and cancelled or refused in the loop) or refused here, and
            # the client needs no lock per call.
            self._inside.add(call)
            if self._close_requested:
                raise CallCancelled
            return from_thread.run(_enter, self, call, token=self.token)
        except (CallCancelled, asyncio.CancelledError, concurrent.futures.CancelledError):
            raise CallCancelled from None
        except BaseException:
            # The caller gave up. Still registered, so the loop still runs
            # and the hop that cancels a started call returns.
            call.given_up = True
            if call.task is not None:
                with contextlib.suppress(RuntimeError):  # the loop has already ended
                    from_thread.run_sync(self._cancel_abandoned, call.task, token=self.token)
            raise
        finally:
            # Removed first, the flag read second (the same pairing as above).
            self._inside.discard(call)
            if self._close_requested:
                with self._left:
                    self._left.notify_all()

    def _cancel_abandoned(self, task: asyncio.Task[Any]) -> None:  # in the loop
        """Cancel a call its caller gave up; the shutdown still waits for it until it is done."""
        if task.cancel():
            self._abandoned.add(task)
            task.add_done_callback(self._abandoned.discard)

    async def _serve(self, *, task_status: TaskStatus[anyio.Event]) -> None:
        wake = anyio.Event()
        task_status.started(wake)
        await wake.wait()
        # Every call that passed _enter is registered or abandoned; any later
        # one is refused there, as the flag was set before this woke up. The
        # copy is made in C, so callers coming and going cannot change it.
        running = {task for call in self._inside.copy() if (task := call.task) is not None}
        running |= self._abandoned
        if running:
            for task in running:
                task.cancel()
            await asyncio.wait(running)
        await self._finaliser()

    def request_close(self) -> None:
        """Begin the shutdown (idempotent), from any thread; does not wait for it."""
        with self._left:
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

        Not from the loop thread (it cannot join itself). The portal stops once
        no caller is inside ``run``, which every one leaves, its call cancelled
        or refused. Raises what the finaliser raised.
        """
        try:
            self._shutdown.result()
        finally:
            with self._left:
                self._left.wait_for(lambda: not self._inside)
            with self._stopping:  # the first one stops it; the others wait for that
                if not self._stopped:
                    self._manager.__exit__(None, None, None)
                    self._stopped = True

    def abandon(self) -> None:
        """In a forked child: this portal's thread does not exist here; never wait for it.

        ``BlockingPortal.stop`` marks the portal stopped before it wakes the
        (absent) loop, and awaits nothing, so driving it one step is enough for
        the portal's context manager to exit at once if it is ever finalised.
        """
        stopping = self.portal.stop()
        try:
            stopping.send(None)
        except (StopIteration, RuntimeError):  # done; or asyncio debug mode refused the wake-up
            return
        stopping.close()  # a later anyio whose stop() awaits: marked stopped all the same


def _enter(portal: CallPortal, call: Call[T]) -> Coroutine[Any, Any, T]:  # in the loop
    """Start ``call`` in its task, unless it was given up or closing began.

    A plain function: anyio's task wrapper awaits what it returns, the call's
    own coroutine, so no frame of ours stays on its stack. No lock against a
    caller giving up: each side writes its own field, then reads the other's
    (``task`` here, ``given_up`` there), so one of them sees the other and the
    call is either refused here or cancelled there.
    """
    call.task = asyncio.current_task()
    if call.given_up or portal._close_requested:
        raise CallCancelled  # never started: nothing was sent or created
    return call.start()
