"""``Lettr``: the blocking client, and the runtime state that runs its calls.

Why it is built this way:

* There is one implementation of the API, the async core. A sync call hands
  its coroutine to the event loop of an anyio blocking portal owned by the
  client (``CallPortal``: anyio runs that loop in a daemon thread; a call
  enters it with ``anyio.from_thread.run``). The aiohttp session lives in
  that loop, so keep-alive connections are pooled across calls *and* across
  threads.
* The constructor, the option properties and ``with_options`` are generated
  from ``AsyncLettr``'s (``tools/sync_codegen.py``), so an option is added once.
* The client has an explicit state, as httpx's ``ClientState``: ``UNOPENED``
  (nothing started at import or construction), ``OPENED`` (the first call
  started the portal under a lock; the lock is never held across a
  request, so any number of threads can have calls in flight), ``CLOSING``
  and ``CLOSED``.
* ``close()`` (or leaving ``with``) refuses new calls, cancels the calls in
  flight (they fail with the documented "client has been closed"
  ``LettrError``), then closes the ``AsyncLettr`` and stops the portal.
  Called from the portal's thread itself (say from a bulk ``on_progress``
  callback) it begins that shutdown; the interrupted caller (or a later
  ``close()``, or the exit hook) waits for it and stops the portal.
* Clients left open are closed by an ``atexit`` hook. The portal thread is a
  daemon (anyio >= 4.5), so interpreter shutdown never waits for it before
  that hook runs; nothing is ever done from ``__del__``.
* Fork-safe: the runtime records the pid. In a child process the first call
  starts a fresh portal and a fresh ``AsyncLettr`` with the same settings.
  The parent's portal and session are never touched; only the last
  inherited pair is kept referenced (so their finalisers do not run against
  the parent's sockets), never a growing list.
* A call from a thread that runs an event loop (Jupyter, an async Django
  view) works, because the loop is another thread, but warns once:
  blocking a loop stalls everything else on it.
* Ctrl-C, or any exception, while waiting cancels the coroutine in the
  loop; the client stays usable.
"""

from __future__ import annotations

import atexit
import contextlib
import enum
import os
import threading
import warnings
import weakref
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

from lettr_async import NOT_GIVEN, AsyncLettr, LettrError

from ._generated import Options, Resources, bind_resources
from ._portal import Call, CallCancelled, CallPortal, running_loop

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


class _Runtime:
    """What a ``Lettr`` and all its ``with_options`` views share: state, portal and async client.

    ``factory`` builds the ``AsyncLettr``; it is called again in a forked
    child so the child never reuses the parent's loop-bound state.
    """

    def __init__(self, factory: Callable[[], AsyncLettr]) -> None:
        self._factory = factory
        self.root = factory()
        self.generation = 0
        self.pid = os.getpid()
        self.state = ClientState.UNOPENED
        self.warned_in_loop = False
        self.lock = threading.Lock()
        self.portal: CallPortal | None = None
        self.accepting: CallPortal | None = None
        """The portal while ``OPENED`` (else None): all a call reads when nothing changes."""
        self.inherited: tuple[AsyncLettr, CallPortal | None] | None = None
        _live.add(self)

    @property
    def in_own_loop(self) -> bool:
        """True in the thread of this process's portal (where a sync call would deadlock)."""
        portal = self.portal
        return portal is not None and self.pid == os.getpid() and portal.in_loop_thread

    def run(self, call: Call[T]) -> T:
        """Run ``call`` in the portal's loop and return its result.

        The portal starts on first use (or first use after a fork). Raises
        the "closed" ``LettrError`` once ``close()`` began.
        """
        portal = self.accepting
        if portal is None or self.pid != os.getpid():
            portal = self._open()
        return portal.run(call)

    def _open(self) -> CallPortal:
        """The portal calls go to, under the lock: after a fork, on first use, and once closed.

        Every other call reads ``accepting`` only: the portal itself refuses a
        call that reaches it after ``close()`` began (``CallPortal.run``).
        """
        with self.lock:
            if self.pid != os.getpid():
                self._forget_parent()
            if self.state is ClientState.UNOPENED:
                self.portal = CallPortal(f"lettr-sync-{id(self):x}", self._finish)
                self.state = ClientState.OPENED
                _opened.add(self)
            if self.state is not ClientState.OPENED:
                raise _closed_error()
            assert self.portal is not None
            self.accepting = self.portal
            return self.portal

    def _forget_parent(self) -> None:
        """In a forked child: drop the parent's portal and client without touching them.

        Only the direct parent's pair is kept referenced; a grandparent's
        (after a fork of a fork) is released, its ResourceWarnings muted since
        nothing here ever owned it.
        """
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
        self.root = self._factory()
        self.generation += 1
        self.pid = os.getpid()
        self.warned_in_loop = False
        if self.state is not ClientState.UNOPENED:
            # Open in the parent: the child starts afresh on first use. A
            # client closed (or closing) in the parent stays closed here.
            opened = self.state is ClientState.OPENED
            self.state = ClientState.UNOPENED if opened else ClientState.CLOSED

    def close(self) -> None:
        """Refuse new calls, cancel those in flight, close the async client, stop the portal.

        From the portal's thread itself only begins the shutdown (a thread
        cannot join itself); from any other thread returns once it is done.
        """
        with self.lock:
            if self.pid != os.getpid():
                self._forget_parent()
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
            self.wait_closed()

    async def _finish(self) -> None:
        try:
            await self.root.aclose()
        finally:
            self.state = ClientState.CLOSED

    def wait_closed(self) -> None:
        """After a close begun anywhere, wait until the portal has stopped (not from inside it)."""
        portal = self.portal
        if portal is not None and self.pid == os.getpid():
            try:
                portal.finish()
            finally:
                _opened.discard(self)


_live: weakref.WeakSet[_Runtime] = weakref.WeakSet()
"""Every runtime, so a forked child can give each one a fresh lock."""

_opened: set[_Runtime] = set()
"""Runtimes with a running portal: kept alive until it stops, so the atexit hook finds them."""


def _close_all_at_exit() -> None:
    """Close clients the program left open; portal threads are daemons, still running here."""
    for runtime in list(_opened):
        with contextlib.suppress(Exception):
            runtime.close()


def _after_fork_in_child() -> None:
    """Locks may have been held by parent threads that do not exist here: replace them."""
    for runtime in list(_live):
        runtime.lock = threading.Lock()


atexit.register(_close_all_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _closed_error() -> LettrError:
    return LettrError("this Lettr client has been closed; create a new lettr_sync.Lettr")


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

        A forked child builds its own ``AsyncLettr`` from the same settings,
        with the ``base_url`` the first one resolved, and with copies of the
        mappings (so the caller changing theirs later changes nothing).
        """
        settings = {k: dict(v) if isinstance(v, Mapping) else v for k, v in settings.items()}
        first = AsyncLettr(**settings)
        settings["base_url"] = first.base_url
        built = [first]

        def factory() -> AsyncLettr:
            return built.pop() if built else AsyncLettr(**settings)

        self._runtime = _Runtime(factory)
        self._overrides: dict[str, Any] = {}
        self._view: tuple[int, AsyncLettr] = (0, self._runtime.root)
        bind_resources(self)

    def _async(self) -> AsyncLettr:
        """The live ``AsyncLettr`` with this view's defaults (rebuilt after a fork)."""
        runtime = self._runtime
        generation, client = self._view
        if generation != runtime.generation:
            root = runtime.root
            client = root.with_options(**self._overrides) if self._overrides else root
            self._view = (runtime.generation, client)
        return client

    def _with(self, changes: dict[str, Any]) -> Lettr:
        """A view with ``changes`` (NOT_GIVEN ones dropped) on top of this one's defaults.

        It shares this client's runtime: its portal, connections and limiter.
        """
        overrides = {**self._overrides, **{k: v for k, v in changes.items() if v is not NOT_GIVEN}}
        runtime = self._runtime
        view = object.__new__(type(self))
        view._runtime = runtime
        view._overrides = overrides
        view._view = (runtime.generation, runtime.root.with_options(**overrides))
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

        Generated resource methods are one ``_run`` each. If waiting is
        interrupted (KeyboardInterrupt, or any exception raised in this
        thread), the coroutine is cancelled in the loop before re-raising.
        """
        runtime = self._runtime
        if running_loop() is not None:
            self._check_loop()
        # The Call exists before anything is submitted, so an interrupt that
        # lands anywhere from here on still reaches the call (CallPortal.run).
        # Started in the loop: ``_async()`` there sees this process's client.
        pending = Call(lambda: call(self._async()))
        try:
            return runtime.run(pending)
        except CallCancelled:
            if runtime.state is ClientState.OPENED:
                raise
            # Cancelled by close(), maybe from a callback inside this very
            # call: let that shutdown finish so nothing outlives the error.
            runtime.wait_closed()
            raise _closed_error() from None

    def _check_loop(self) -> None:
        runtime = self._runtime
        if runtime.in_own_loop:
            raise LettrError(
                "a lettr_sync.Lettr method was called from inside its own event loop "
                "(for example from a bulk on_progress callback); that would deadlock"
            )
        if not runtime.warned_in_loop:
            runtime.warned_in_loop = True
            warnings.warn(
                "lettr_sync.Lettr was called from a thread running an event loop; the call "
                "works but blocks that loop until it returns: use lettr_async.AsyncLettr "
                "in async code",
                SyncInAsyncContextWarning,
                stacklevel=4,
            )
