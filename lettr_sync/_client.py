"""``Lettr``: the blocking client, and the anyio portal runtime that runs its calls.

Why it is built this way:

* There is one implementation of the API, the async core. A sync call runs
  its coroutine in the loop of an anyio blocking portal owned by the client
  (``CallPortal``). The aiohttp session lives in that loop, so keep-alive
  connections are pooled across calls *and* across threads.
* A call enters that loop in one hop, ``from_thread.run(..., token=token)``
  (anyio >= 4.11); ``portal.call`` would first spawn a task in the portal's
  task group, a second hop that only the rare lifecycle steps take.
* What anyio does not know is added off that per-call path as far as it can
  be: callers register their ``Call`` in a set, so the portal is stopped only
  once no caller can still submit to it (a call submitted to a stopped loop
  waits for ever), and one shutdown task cancels the calls in flight, waits
  for them, then awaits the finaliser. A call is cancelled with
  ``Task.cancel()`` in the loop, as cancelling the future of anyio's hop on
  asyncio would; an anyio ``CancelScope`` per call measured 30 to 60 us more
  per call, as each call is a new task the scope must register.
* The constructor, the option properties and ``with_options`` are generated
  from ``AsyncLettr``'s (``tools/sync_codegen.py``), so an option is added once.
* The client has an explicit state, as httpx's ``ClientState``. Only starting
  the portal (on the first call) takes a lock, never a request, so any number
  of threads can have calls in flight.
* Clients left open are closed by an ``atexit`` hook. anyio (>= 4.5) runs the
  portal's loop in a daemon thread, so interpreter shutdown never waits for it
  before that hook runs (before, a thread-pool worker that exit joined first:
  an open client hung exit). Nothing is ever done from ``__del__``.
* Fork-safe: the runtime records the pid; in a child the first call starts a
  fresh portal and ``AsyncLettr`` with the same settings, never touching the
  parent's (``_Runtime._adopt``).
* A call from a thread that runs an event loop (Jupyter, an async Django view)
  works, as the loop is another thread, but warns once: it stalls that loop.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import copy
import enum
import functools
import os
import threading
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import anyio
from anyio import from_thread
from anyio.abc import TaskStatus
from anyio.lowlevel import current_token

from lettr_async import NOT_GIVEN, AsyncLettr, LettrError

from ._generated import Options, Resources, bind_resources

__all__ = ["ClientState", "Lettr", "SyncInAsyncContextWarning"]

T = TypeVar("T")


class SyncInAsyncContextWarning(RuntimeWarning):
    """The sync client was called from a thread running an event loop.

    The call works, but it blocks that loop (every other task on it waits)
    until the response arrives. In async code use ``lettr_async.AsyncLettr``.
    """


class ClientState(enum.Enum):
    """Where a ``Lettr`` is in its life; only ever moves forward (a fork resets it)."""

    UNOPENED = "unopened"
    """Constructed; no thread, loop or connection exists yet."""
    OPENED = "opened"
    """The portal runs; calls are accepted."""
    CLOSING = "closing"
    """``close()`` began: new calls are refused, those in flight are being cancelled."""
    CLOSED = "closed"
    """The session is closed; the portal stops once no caller waits on it."""


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


class _Runtime:
    """What a ``Lettr`` and its views share; ``factory`` builds a forked child's ``AsyncLettr``."""

    def __init__(self, root: AsyncLettr, factory: Callable[[], AsyncLettr]) -> None:
        self.root = root
        self.factory = factory
        self.pid = os.getpid()
        self.state = ClientState.UNOPENED
        self.warned_in_loop = False
        self.portal: CallPortal | None = None
        self.accepting: CallPortal | None = None
        """The portal while ``OPENED`` (else None): all a call reads when nothing changes."""
        self.inherited: tuple[AsyncLettr, CallPortal | None] | None = None

    def run(self, call: Call[T]) -> T:
        """Run ``call`` in this process's portal, started on first use (or first use after a fork).

        Only that start takes the lock: any other call reads ``accepting``
        alone, as the portal itself refuses a call reaching it after ``close()``.
        """
        portal = self.accepting
        if portal is None or self.pid != os.getpid():
            with _lock:
                self._adopt()
                if self.state is ClientState.UNOPENED:
                    self.portal = CallPortal(f"lettr-sync-{id(self):x}", self._finish)
                    self.state = ClientState.OPENED
                    _opened.add(self)
                if self.state is not ClientState.OPENED:
                    raise LettrError(_CLOSED)
                assert self.portal is not None
                self.accepting = portal = self.portal
        return portal.run(call)

    def _adopt(self) -> None:
        """Under the lock, in a forked child: drop the parent's portal and client untouched.

        Only the direct parent's pair stays referenced (so their finalisers do
        not run against the parent's sockets), never a growing list: a
        grandparent's is released, its ResourceWarnings muted since nothing
        here ever owned it.
        """
        if self.pid == os.getpid():
            return
        if self.portal is not None:
            self.portal.abandon()
        released = self.inherited
        self.inherited = (self.root, self.portal)
        if released is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)
                del released
        _opened.discard(self)
        self.portal = self.accepting = None
        self.root = self.factory()
        self.warned_in_loop = False
        # Open in the parent: the child starts afresh on first use. A client
        # closed (or closing) in the parent stays closed here.
        if self.state is not ClientState.UNOPENED:
            opened = self.state is ClientState.OPENED
            self.state = ClientState.UNOPENED if opened else ClientState.CLOSED
        self.pid = os.getpid()

    def close(self) -> None:
        """Refuse new calls, cancel those in flight, close the async client, stop the portal.

        From the portal's own thread only begins that (a thread cannot join
        itself); from any other, also waits for a close begun anywhere.
        """
        with _lock:
            self._adopt()
            if self.state is ClientState.UNOPENED:
                self.state = ClientState.CLOSED
            if self.state is ClientState.OPENED:
                self.state = ClientState.CLOSING
            self.accepting = None
            portal = self.portal
        if portal is None:
            return
        portal.request_close()
        if not portal.in_loop_thread:
            try:
                portal.finish()
            finally:
                _opened.discard(self)

    async def _finish(self) -> None:
        try:
            await self.root.aclose()
        finally:
            self.state = ClientState.CLOSED


_lock = threading.Lock()
"""Held to start, close or adopt a runtime (never across a request), so briefly: one for all."""

_opened: set[_Runtime] = set()
"""Runtimes with a running portal: kept alive until it stops, so the atexit hook finds them."""


def _close_all_at_exit() -> None:
    """Close clients the program left open; portal threads are daemons, still running here."""
    for runtime in list(_opened):
        with contextlib.suppress(Exception):
            runtime.close()


def _after_fork_in_child() -> None:
    """The lock may have been held by a parent thread that does not exist here: replace it."""
    global _lock
    _lock = threading.Lock()


atexit.register(_close_all_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


_CLOSED = "this Lettr client has been closed; create a new lettr_sync.Lettr"


class Lettr(Options, Resources):
    """Blocking client for the Lettr webhooks API; a drop-in for Lettr's own SDK.

    Takes the same arguments as ``lettr_async.AsyncLettr`` (``api_key``
    falls back to ``$LETTR_API_KEY``, ``base_url`` to ``$LETTR_BASE_URL``).
    Safe to share between threads and to create at module level (say in a
    Django project): nothing runs until the first call, and a forked worker
    gets its own event loop and connections. Use ``with Lettr() as client:``
    or call ``close()``; an unclosed client is closed at interpreter exit.
    """

    # -- configuration (the constructor, properties and with_options are generated) --

    def _start(self, settings: dict[str, Any]) -> None:
        """Validate ``AsyncLettr``'s arguments now (by building it); start nothing yet.

        A forked child builds its own from the same settings, with the ``base_url``
        the first one resolved and copies of the mappings (the caller may change theirs).
        """
        settings = {k: dict(v) if isinstance(v, Mapping) else v for k, v in settings.items()}
        root = AsyncLettr(**settings)
        settings["base_url"] = root.base_url
        self._runtime = _Runtime(root, functools.partial(AsyncLettr, **settings))
        self._overrides: dict[str, Any] = {}
        self._view = (root, root)
        bind_resources(self)

    def _async(self) -> AsyncLettr:
        """The live ``AsyncLettr`` with this view's defaults (rebuilt on a forked child's root)."""
        root = self._runtime.root
        built_on, client = self._view
        if built_on is not root:
            client = root.with_options(**self._overrides) if self._overrides else root
            self._view = (root, client)
        return client

    def _with(self, changes: dict[str, Any]) -> Lettr:
        """A view with ``changes`` (bar NOT_GIVEN ones) over these defaults, on the same runtime."""
        overrides = {**self._overrides, **{k: v for k, v in changes.items() if v is not NOT_GIVEN}}
        root = self._runtime.root
        view = copy.copy(self)
        view._overrides = overrides
        view._view = (root, root.with_options(**overrides))
        bind_resources(view)
        return view

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    # -- lifecycle ------------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        """True once ``close()`` has been called on this client or any of its views."""
        return self._runtime.state in (ClientState.CLOSING, ClientState.CLOSED)

    @property
    def state(self) -> ClientState:
        """Where the client is in its life: unopened, opened, closing or closed."""
        return self._runtime.state

    def close(self) -> None:
        """Close the connections and stop the background thread; idempotent.

        New calls are refused at once; calls still in flight in other threads
        are cancelled and fail with a ``LettrError`` saying the client was
        closed; then the session is closed and the loop stopped. Safe to call
        from a bulk ``on_progress`` callback: the bulk call then fails with
        that same error.
        """
        self._runtime.close()

    def __enter__(self) -> Lettr:
        """Use the client for a block; leaving it closes the client."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the client (connections and background thread)."""
        self.close()

    # -- running coroutines -------------------------------------------------------

    def _run(self, call: Callable[[AsyncLettr], Coroutine[Any, Any, T]]) -> T:
        """Run ``call(live_async_client)`` in the portal's loop and wait for its result.

        If the wait is interrupted (Ctrl-C, or any exception raised in this
        thread), the coroutine is cancelled in the loop first; the client stays usable.
        """
        runtime = self._runtime
        if running_loop() is not None:
            portal = runtime.portal
            if portal is not None and runtime.pid == os.getpid() and portal.in_loop_thread:
                raise LettrError(
                    "a lettr_sync.Lettr method was called from inside its own event loop "
                    "(for example from a bulk on_progress callback); that would deadlock"
                )
            if not runtime.warned_in_loop:
                runtime.warned_in_loop = True
                warnings.warn(
                    "lettr_sync.Lettr was called from a thread running an event loop; the "
                    "call works but blocks that loop until it returns: use "
                    "lettr_async.AsyncLettr in async code",
                    SyncInAsyncContextWarning,
                    stacklevel=3,
                )
        # The Call exists before anything is submitted, so an interrupt landing
        # anywhere from here on still reaches it (CallPortal.run). Started in
        # the loop, ``_async()`` there sees this process's client.
        pending = Call(lambda: call(self._async()))
        try:
            return runtime.run(pending)
        except CallCancelled:
            if runtime.state is ClientState.OPENED:
                raise
            # Cancelled by close(), maybe from a callback inside this very
            # call: let that shutdown finish so nothing outlives the error.
            runtime.close()
            raise LettrError(_CLOSED) from None
