"""The structure the per-call cost rests on (issue 23), pinned by counting, never by timing.

``benchmarks/RESULTS.md`` reports the instructions per call; these tests
keep the reasons for them true: which coroutines a ``get`` enters, that
nothing is built for hooks nobody registered, and that the pacing fast path
books exactly the slot the general GCRA step would.
"""

from __future__ import annotations

import sys
from collections import Counter
from types import FrameType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lettr_async import AsyncLettr
from lettr_async.hooks import Hooks, capture_response
from lettr_async.ratelimit import _limiter
from lettr_async.ratelimit._gcra import PacingState, TakeRequest, take_if_free, take_slot
from lettr_async.ratelimit._limiter import Lane, RateLimiter
from lettr_async.testing import FakeLettr

from .pacing import VirtualClock

pytestmark = pytest.mark.anyio


def _our_calls(counter: Counter[str]) -> Any:
    """A profile function counting the calls of lettr_async's functions (``module.name``)."""

    frames: list[FrameType] = []  # kept alive, so no two frames share an id

    def profile(frame: FrameType, event: str, _arg: object) -> None:
        # A coroutine re-enters its frame on every resume: count each frame once.
        ours = event == "call" and "lettr_async" in frame.f_code.co_filename
        if ours and not any(seen is frame for seen in frames):
            frames.append(frame)
            module = frame.f_code.co_filename.rsplit("/", 1)[-1].removesuffix(".py")
            counter[f"{module}.{frame.f_code.co_name}"] += 1

    return profile


async def _profiled_get(client: AsyncLettr, webhook_id: str) -> Counter[str]:
    await client.webhooks.get(webhook_id)  # warm: sessions open, caches filled
    counter: Counter[str] = Counter()
    sys.setprofile(_our_calls(counter))
    try:
        await client.webhooks.get(webhook_id)
    finally:
        sys.setprofile(None)
    return counter


async def test_a_get_enters_three_coroutines_of_ours(fake: FakeLettr) -> None:
    """The resource method, the pipeline and the transport: no layer between them."""
    hook = fake.add_webhook(name="A", url="https://example.com/a")
    async with AsyncLettr("lttr_test_key", base_url=fake.base_url, rate_limit=None) as client:
        calls = await _profiled_get(client, hook["id"])
    coroutines = {name for name in calls if name.endswith(("get", "send"))}
    assert coroutines == {"webhooks.get", "_pipeline.send", "_transport.send"}
    assert "webhooks._webhook" not in calls
    assert "_pipeline.override" not in calls  # no option given: nothing merged


async def test_a_get_with_no_hooks_starts_no_tracker(fake: FakeLettr) -> None:
    hook = fake.add_webhook(name="A", url="https://example.com/a")
    async with AsyncLettr("lttr_test_key", base_url=fake.base_url, rate_limit=None) as client:
        calls = await _profiled_get(client, hook["id"])
        assert not [name for name in calls if name.startswith("hooks.")]
        with capture_response() as captured:
            calls = await _profiled_get(client, hook["id"])
    # A capture block listens: the tracker is back, and so is its record.
    assert calls["hooks.start_call"] == 1
    assert captured.status_code == 200


async def test_one_response_hook_builds_only_its_records(fake: FakeLettr) -> None:
    hook = fake.add_webhook(name="A", url="https://example.com/a")
    seen: list[object] = []
    hooks = Hooks(on_response=seen.append)
    async with AsyncLettr(
        "lttr_test_key", base_url=fake.base_url, rate_limit=None, hooks=hooks
    ) as client:
        calls = await _profiled_get(client, hook["id"])
    assert calls["hooks.start_call"] == 1
    assert calls["hooks.response"] == 1
    assert len(seen) == 2  # the warm-up call's record and this one's


async def test_pacing_books_a_free_slot_without_a_take_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[object] = []

    def counting(**kwargs: Any) -> TakeRequest:
        built.append(kwargs)
        return TakeRequest(**kwargs)

    monkeypatch.setattr(_limiter, "TakeRequest", counting)
    clock = VirtualClock()
    limiter = RateLimiter(3.0, clock=clock)
    limiter.observe({"X-RateLimit-Limit": "10"})
    assert limiter.take_free_now(Lane.INTERACTIVE)  # learning started the state
    for _ in range(5):
        clock._now += limiter.interval
        assert limiter.take_free_now(Lane.INTERACTIVE)
    assert not built  # every free slot took the fast path
    assert not limiter.take_free_now(Lane.INTERACTIVE)  # the next slot is not free yet


_times = st.floats(min_value=0.0, max_value=2000.0, allow_nan=False)


@settings(deadline=None, database=None)
@given(
    tat=_times,
    paused_until=_times,
    now=_times,
    interval=st.floats(min_value=1e-5, max_value=2.0),
    learned=st.booleans(),
    same_interval=st.booleans(),
)
def test_the_fast_path_books_what_take_slot_books(
    tat: float,
    paused_until: float,
    now: float,
    interval: float,
    learned: bool,
    same_interval: bool,
) -> None:
    state = PacingState(tat, interval if same_interval else interval * 2, learned, paused_until)
    fast = take_if_free(state, now, interval)
    request = TakeRequest(
        reserve=False,
        max_wait=0.0,
        default_interval=1 / 3,
        learned_interval=interval,
        pause=0.0,
        max_pause=3000.0,
    )
    new_state, slot = take_slot(state, now, request)
    if fast is not None:
        assert slot.booked
        assert fast == new_state
    else:  # the fast path declines all but a trusted, learned state whose slot is free now
        assert not (learned and same_interval and max(tat, paused_until) <= now)
