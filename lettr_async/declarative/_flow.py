"""Plan and apply written once, as generators, so that their file I/O runs in the caller's thread.

A flow yields each HTTP step (a coroutine function of the client) and is sent
the step's result, or has its exception thrown in. Everything between the
steps (reading the lock file, diffing, the checks, writing the lock file)
runs wherever the flow is driven. ``drive`` runs a flow on the running loop
for the async entry points; ``run`` drives it in the calling thread, handing
each step to a blocking runner: ``lettr_sync.declarative`` passes the sync
client's ``_run``, so only the steps reach that client's loop and no lock
file is read or written inside its thread.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Generator
from typing import Any, TypeAlias, TypeVar

from ._api import HasWebhooks

__all__ = ["Flow", "Step", "drive", "run"]

T = TypeVar("T")

Step: TypeAlias = Callable[[HasWebhooks], Coroutine[Any, Any, Any]]
"""One HTTP step of a flow: it gets the client and sends its requests."""

Flow: TypeAlias = Generator[Step, Any, T]
"""A plan or apply: yields its steps, returns its result."""


async def drive(flow: Flow[T], client: HasWebhooks) -> T:
    """Run ``flow`` on the running loop, every step against ``client``."""
    try:
        step = next(flow)
        while True:
            try:
                result = await step(client)
            except BaseException as exc:  # the flow's ``finally`` (the lock write) runs
                step = flow.throw(exc)
            else:
                step = flow.send(result)
    except StopIteration as stop:
        value: T = stop.value
        return value


def run(flow: Flow[T], run_step: Callable[[Step], Any]) -> T:
    """``drive``'s blocking twin: ``flow`` in this thread, ``run_step`` waits for each step."""
    try:
        step = next(flow)
        while True:
            try:
                result = run_step(step)
            except BaseException as exc:  # the flow's ``finally`` (the lock write) runs
                step = flow.throw(exc)
            else:
                step = flow.send(result)
    except StopIteration as stop:
        value: T = stop.value
        return value
