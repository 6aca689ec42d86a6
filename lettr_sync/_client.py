"""``Lettr``: the blocking client, and the runtime state that runs its calls.

Why it is built this way:

* There is one implementation of the API, the async core. A sync call runs
  its coroutine in the loop of an anyio blocking portal owned by the client
  (``CallPortal``, whose loop runs in a daemon thread). The aiohttp session
  lives in that loop, so keep-alive connections are pooled across calls *and*
  across threads.
* The constructor, the option properties and ``with_options`` are generated
  from ``AsyncLettr``'s (``tools/sync_codegen.py``), so an option is added once.
* The client has an explicit state, as httpx's ``ClientState``. Only starting
  the portal (on the first call) takes a lock, never a request, so any number
  of threads can have calls in flight.
* Clients left open are closed by an ``atexit`` hook: the portal thread is a
  daemon, so interpreter shutdown never waits for it before that hook runs.
  Nothing is ever done from ``__del__``.
* Fork-safe: the runtime records the pid; in a child the first call starts a
  fresh portal and ``AsyncLettr`` with the same settings, never touching the
  parent's (``_Runtime._adopt``).
* A call from a thread that runs an event loop (Jupyter, an async Django view)
  works, as the loop is another thread, but warns once: it stalls that loop.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import enum
import functools
import os
import threading
import warnings
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

    ``factory`` builds the ``AsyncLettr`` of a forked child, which must never
    reuse the parent's loop-bound state.
    """

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

        A forked child builds its own from the same settings, with the
        ``base_url`` the first one resolved, and with copies of the mappings
        (so the caller changing theirs later changes nothing).
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
        """A view with ``changes`` (NOT_GIVEN ones dropped) on top of this one's defaults.

        It shares this client's runtime: its portal, connections and limiter.
        """
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

        Every generated resource method is one ``_run``. If the wait is
        interrupted (Ctrl-C, or any exception raised in this thread), the
        coroutine is cancelled in the loop before that goes on; the client
        stays usable.
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
