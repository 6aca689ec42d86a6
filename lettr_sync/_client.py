"""``Lettr``: the blocking client, and the portal runtime that runs its calls.

Why it is built this way:

* There is one implementation of the API, the async core. A sync call hands
  its coroutine to an anyio blocking portal: an event loop in a background
  daemon thread owned by the client. The aiohttp session lives in that loop,
  so keep-alive connections are pooled across calls *and* across threads.
* Nothing starts at import or construction. The first call starts the
  portal under a lock; the lock is never held across a request, so any
  number of threads can have calls in flight on one client.
* Fork-safe: the runtime records the pid. In a child process the first call
  starts a fresh portal and a fresh ``AsyncLettr`` with the same settings;
  the parent's thread, loop and session are never touched, only kept
  referenced so no finaliser runs against them.
* ``close()`` (or leaving ``with``) closes the ``AsyncLettr`` in its loop and
  joins the portal thread. Clients left open are closed by an ``atexit``
  hook; nothing is ever done from ``__del__``.
* A call from a thread that runs an event loop (Jupyter, an async Django
  view) works, because the portal is another thread, but warns once:
  blocking a loop stalls everything else on it.
* Ctrl-C, or any exception, while waiting cancels the coroutine in the
  portal; the client stays usable.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import threading
import warnings
import weakref
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import CancelledError, Future
from typing import Any, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

from lettr_async import AsyncLettr, LettrError, RateLimitInfo, RetryPolicy
from lettr_async._client import DEFAULT_MAX_RETRIES, DEFAULT_RATE_LIMIT, DEFAULT_TIMEOUT, NOT_GIVEN
from lettr_async.ratelimit import RateStore

from ._generated import Resources, bind_resources

__all__ = ["Lettr", "SyncInAsyncContextWarning"]

T = TypeVar("T")


class SyncInAsyncContextWarning(RuntimeWarning):
    """The sync client was called from a thread running an event loop.

    The call works, but it blocks that loop (every other task on it waits)
    until the response arrives. In async code use ``lettr_async.AsyncLettr``.
    """


class _Runtime:
    """What a ``Lettr`` and all its ``with_options`` views share: portal and async client.

    ``factory`` builds the ``AsyncLettr``; it is called again in a forked
    child so the child never reuses the parent's loop-bound state.
    """

    def __init__(self, factory: Callable[[], AsyncLettr]) -> None:
        self._factory = factory
        self.root = factory()
        self.generation = 0
        self.pid = os.getpid()
        self.closed = False
        self.warned_in_loop = False
        self.lock = threading.Lock()
        self.portal: BlockingPortal | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stack: contextlib.ExitStack | None = None
        _live.add(self)

    def ensure_portal(self) -> BlockingPortal:
        """The running portal, started on first use (or first use after a fork)."""
        portal = self.portal
        if portal is not None and self.pid == os.getpid():
            return portal
        with self.lock:
            if self.closed:
                raise _closed_error()
            if self.pid != os.getpid():
                self._forget_parent()
            if self.portal is None:
                stack = contextlib.ExitStack()
                portal = stack.enter_context(start_blocking_portal(backend="asyncio"))
                self.loop = portal.call(asyncio.get_running_loop)
                self._stack = stack
                self.portal = portal
                _started.add(self)
            return self.portal

    def _forget_parent(self) -> None:
        """In a forked child: drop the parent's portal and client without touching them."""
        _graveyard.append((self.root, self.portal, self._stack, self.loop))
        _started.discard(self)
        self.portal = None
        self._stack = None
        self.loop = None
        self.root = self._factory()
        self.generation += 1
        self.pid = os.getpid()
        self.warned_in_loop = False

    def close(self) -> None:
        """Close the async client in its loop, then stop and join the portal thread."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
            portal, stack = self.portal, self._stack
            self.portal = self._stack = None
            _started.discard(self)
            same_process = self.pid == os.getpid()
        if portal is None or stack is None:
            return
        if not same_process:
            _graveyard.append((self.root, portal, stack, self.loop))
            return
        try:
            portal.call(self.root.aclose)
            # Calls still in flight in other threads (say, queued in the rate
            # limiter) are cancelled rather than waited for: close never hangs.
            portal.call(portal.stop, True)
        finally:
            stack.close()


_live: weakref.WeakSet[_Runtime] = weakref.WeakSet()
"""Every runtime, so a forked child can give each one a fresh lock."""

_started: set[_Runtime] = set()
"""Runtimes with a running portal: kept alive until closed, so the atexit hook finds them."""

_graveyard: list[object] = []
"""A parent's portal objects inherited by a forked child: referenced forever, never run."""


def _close_all_at_exit() -> None:
    """Close clients the program left open, before the interpreter tears threads down."""
    for runtime in list(_started):
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
        connection_limit: int = 100,
        retry_policy: RetryPolicy | None = None,
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
    def rate_limit(self) -> RateLimitInfo:
        """The last ``X-RateLimit-Limit/Remaining/Reset`` the server sent."""
        return self._async().rate_limit

    def with_options(
        self, *, timeout: float | None = NOT_GIVEN, max_retries: int = NOT_GIVEN
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
        return self._runtime.closed

    def close(self) -> None:
        """Close the connections and stop the background thread; idempotent.

        The client cannot be used afterwards. Calls still in flight in other
        threads fail with a ``LettrError``.
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
        """Run ``call(live_async_client)`` in the portal loop and wait for its result.

        Generated resource methods are one ``_run`` each. If waiting is
        interrupted (KeyboardInterrupt, or any exception raised in this
        thread), the coroutine is cancelled in the portal before re-raising.
        """
        runtime = self._runtime
        running = asyncio._get_running_loop()
        if running is not None:
            self._check_loop(running)
        runtime.ensure_portal()
        loop = runtime.loop
        assert loop is not None
        # Straight onto the portal's loop: anyio's start_task_soon adds a task
        # group hop that costs ~30 % of a call. close() still cancels these:
        # the loop cancels every remaining task when the portal stops.
        coro = self._invoke(call)
        try:
            future: Future[T] = asyncio.run_coroutine_threadsafe(coro, loop)
        except RuntimeError as exc:  # the loop stopped under us: close() in another thread
            coro.close()
            if runtime.closed:
                raise _closed_error() from None
            raise LettrError(f"the client's event loop is not running: {exc}") from exc
        try:
            return future.result()
        except CancelledError:
            if runtime.closed:  # cancelled by close() in another thread
                raise _closed_error() from None
            raise
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
