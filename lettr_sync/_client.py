"""``Lettr``: the blocking client, and the runtime state that runs its calls.

Why it is built this way:

* There is one implementation of the API, the async core. A sync call hands
  its coroutine to an event loop in a background daemon thread owned by the
  client (``LoopThread``). The aiohttp session lives in that loop, so
  keep-alive connections are pooled across calls *and* across threads.
* The client has an explicit state, as httpx's ``ClientState``: ``UNOPENED``
  (nothing started at import or construction), ``OPENED`` (the first call
  started the loop thread under a lock; the lock is never held across a
  request, so any number of threads can have calls in flight), ``CLOSING``
  and ``CLOSED``.
* ``close()`` (or leaving ``with``) refuses new calls, cancels the calls in
  flight (they fail with the documented "client has been closed"
  ``LettrError``), then closes the ``AsyncLettr`` and stops the loop. Called
  from the loop thread itself (say from a bulk ``on_progress`` callback) it
  schedules that shutdown instead of joining its own thread.
* Clients left open are closed by an ``atexit`` hook. The loop thread is a
  daemon, so interpreter shutdown never waits for it before that hook runs;
  nothing is ever done from ``__del__``.
* Fork-safe: the runtime records the pid. In a child process the first call
  starts a fresh loop thread and a fresh ``AsyncLettr`` with the same
  settings. The parent's loop and session are never touched; only the last
  inherited pair is kept referenced (so their finalisers do not run against
  the parent's sockets), never a growing list.
* A call from a thread that runs an event loop (Jupyter, an async Django
  view) works, because the loop is another thread, but warns once:
  blocking a loop stalls everything else on it.
* Ctrl-C, or any exception, while waiting cancels the coroutine in the
  loop; the client stays usable.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import enum
import functools
import os
import ssl
import threading
import warnings
import weakref
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import CancelledError, Future
from typing import Any, TypeVar

from lettr_async import AsyncLettr, LettrError, RateLimitInfo, RetryPolicy
from lettr_async._client import (
    DEFAULT_CONNECTION_LIMIT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_RATE_LIMIT,
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    NotGiven,
)
from lettr_async.hooks import Hooks
from lettr_async.ratelimit import RateStore

from ._generated import Resources, bind_resources
from ._loop import LoopThread, running_loop

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
    """The loop thread runs; calls are accepted."""
    CLOSING = "closing"
    """``close()`` began: new calls are refused, those in flight are being cancelled."""
    CLOSED = "closed"
    """The session is closed and the loop stopped."""


class _Runtime:
    """What a ``Lettr`` and all its ``with_options`` views share: state, loop and async client.

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
        self.thread: LoopThread | None = None
        self.inherited: tuple[AsyncLettr, LoopThread | None] | None = None
        _live.add(self)

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """This process's loop, if the runtime is open."""
        thread = self.thread
        return thread.loop if thread is not None and self.pid == os.getpid() else None

    def submit(self, start: Callable[[], Coroutine[Any, Any, T]], future: Future[T]) -> None:
        """Run ``start()`` in the loop thread, its outcome into ``future``.

        The loop thread starts on first use (or first use after a fork).
        Raises the "closed" ``LettrError`` once ``close()`` began.
        """
        with self.lock:
            if self.pid != os.getpid():
                self._forget_parent()
            if self.state is ClientState.UNOPENED:
                self.thread = LoopThread(name=f"lettr-sync-{id(self):x}")
                self.state = ClientState.OPENED
                _opened.add(self)
            if self.state is not ClientState.OPENED:
                raise _closed_error()
            assert self.thread is not None
            # Submitted under the lock, so a call either reaches the loop
            # before close() schedules the shutdown, or is refused here.
            self.thread.submit(start, future)

    def _forget_parent(self) -> None:
        """In a forked child: drop the parent's loop and client without touching them.

        Only the direct parent's pair is kept referenced; a grandparent's
        (after a fork of a fork) is released, its ResourceWarnings muted since
        nothing here ever owned it.
        """
        released = self.inherited
        self.inherited = (self.root, self.thread)
        if released is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)
                del released
        _opened.discard(self)
        self.thread = None
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
        """Refuse new calls, cancel those in flight, close the async client, stop the loop.

        From the loop thread itself only schedules the shutdown (a thread
        cannot join itself); from any other thread returns once it is done.
        """
        with self.lock:
            if self.pid != os.getpid():
                self._forget_parent()
            if self.state is ClientState.UNOPENED:
                self.state = ClientState.CLOSED
            if self.state is ClientState.OPENED:
                self.state = ClientState.CLOSING
            thread = self.thread
        if thread is None:
            return
        thread.shutdown(self._finish)

    async def _finish(self) -> None:
        try:
            await self.root.aclose()
        finally:
            self.state = ClientState.CLOSED
            _opened.discard(self)

    def wait_closed(self) -> None:
        """After a close begun elsewhere, wait for its loop thread to end (not from inside it)."""
        thread = self.thread
        if thread is not None and self.pid == os.getpid():
            thread.join()


_live: weakref.WeakSet[_Runtime] = weakref.WeakSet()
"""Every runtime, so a forked child can give each one a fresh lock."""

_opened: set[_Runtime] = set()
"""Runtimes with a running loop: kept alive until closed, so the atexit hook finds them."""


def _close_all_at_exit() -> None:
    """Close clients the program left open; loop threads are daemons, still running here."""
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


class Lettr(Resources):
    """Blocking client for the Lettr webhooks API; a drop-in for Lettr's own SDK.

    Takes the same arguments as ``lettr_async.AsyncLettr`` (``api_key``
    falls back to ``$LETTR_API_KEY``, ``base_url`` to ``$LETTR_BASE_URL``).
    Safe to share between threads and to create at module level (say in a
    Django project): nothing runs until the first call, and a forked worker
    gets its own event loop and connections. Use ``with Lettr() as client:``
    or call ``close()``; an unclosed client is closed at interpreter exit.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        rate_limit: float | None = DEFAULT_RATE_LIMIT,
        default_headers: Mapping[str, str] | None = None,
        connection_limit: int = DEFAULT_CONNECTION_LIMIT,
        retry_policy: RetryPolicy | None = None,
        verify: bool | str | os.PathLike[str] | ssl.SSLContext = True,
        hooks: Hooks | None = None,
        rate_limit_store: str | RateStore | None = None,
    ) -> None:
        """Validate the settings now (like ``AsyncLettr``); start nothing yet.

        ``rate_limit_store`` shares the team's budget between processes (see
        ``AsyncLettr``); it is passed through unchanged.
        """
        headers = dict(default_headers) if default_headers is not None else None
        first = AsyncLettr(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            rate_limit=rate_limit,
            default_headers=headers,
            connection_limit=connection_limit,
            retry_policy=retry_policy,
            verify=verify,
            hooks=hooks,
            rate_limit_store=rate_limit_store,
        )
        resolved_url = first.base_url
        built = [first]

        def factory() -> AsyncLettr:
            if built:
                return built.pop()
            return AsyncLettr(
                api_key,
                base_url=resolved_url,
                timeout=timeout,
                max_retries=max_retries,
                rate_limit=rate_limit,
                default_headers=headers,
                connection_limit=connection_limit,
                retry_policy=retry_policy,
                verify=verify,
                hooks=hooks,
                rate_limit_store=rate_limit_store,
            )

        self._runtime = _Runtime(factory)
        self._overrides: dict[str, Any] = {}
        self._view: tuple[int, AsyncLettr] = (0, self._runtime.root)
        bind_resources(self)

    # -- configuration -------------------------------------------------------------

    def _async(self) -> AsyncLettr:
        """The live ``AsyncLettr`` with this view's defaults (rebuilt after a fork)."""
        runtime = self._runtime
        generation, client = self._view
        if generation != runtime.generation:
            root = runtime.root
            client = root.with_options(**self._overrides) if self._overrides else root
            self._view = (runtime.generation, client)
        return client

    @property
    def base_url(self) -> str:
        """The API root every path is relative to."""
        return self._async().base_url

    @property
    def timeout(self) -> float | None:
        """Default per-call timeout in seconds (None: no timeout)."""
        return self._async().timeout

    @property
    def max_retries(self) -> int:
        """Default number of retries after the first attempt."""
        return self._async().max_retries

    @property
    def rate_limit(self) -> float | None:
        """The configured starting budget in requests per second (None: no pacing)."""
        return self._async().rate_limit

    @property
    def rate_limit_info(self) -> RateLimitInfo:
        """The last ``X-RateLimit-Limit/Remaining/Reset`` the server sent."""
        return self._async().rate_limit_info

    def with_options(
        self,
        *,
        timeout: float | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Lettr:
        """A view with other defaults, sharing this client's portal, connections and limiter.

        Closing a view closes the shared client too.
        """
        overrides = dict(self._overrides)
        if timeout is not NOT_GIVEN:
            overrides["timeout"] = timeout
        if max_retries is not NOT_GIVEN:
            overrides["max_retries"] = max_retries
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
        """Run ``call(live_async_client)`` in the loop thread and wait for its result.

        Generated resource methods are one ``_run`` each. If waiting is
        interrupted (KeyboardInterrupt, or any exception raised in this
        thread), the coroutine is cancelled in the loop before re-raising.
        """
        runtime = self._runtime
        running = running_loop()
        if running is not None:
            self._check_loop(running)
        # Straight onto the loop (run_coroutine_threadsafe): anyio's
        # start_task_soon adds a task group hop that costs ~30 % of a call.
        # The future exists before anything is submitted, so an interrupt that
        # lands anywhere from here on (even inside submit, after the call
        # reached the loop) still cancels the call below.
        future: Future[T] = Future()
        try:
            runtime.submit(functools.partial(self._invoke, call), future)
            return future.result()
        except CancelledError:
            if runtime.state is ClientState.OPENED:
                raise
            # Cancelled by close(), maybe from a callback inside this very
            # call: let that shutdown finish so nothing outlives the error.
            runtime.wait_closed()
            raise _closed_error() from None
        except BaseException:
            future.cancel()
            raise

    async def _invoke(self, call: Callable[[AsyncLettr], Coroutine[Any, Any, T]]) -> T:
        return await call(self._async())

    def _check_loop(self, running: asyncio.AbstractEventLoop) -> None:
        runtime = self._runtime
        if running is runtime.loop and runtime.pid == os.getpid():
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
