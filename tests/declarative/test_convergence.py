"""Interrupted applies converge: lost answers, 409 adoption, a killed process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lettr_async import APIConnectionError, AsyncLettr, declarative
from lettr_async.declarative import Action
from lettr_async.testing import FakeLettr
from tests.helpers import API_KEY, FAST_RETRIES

from ._proxy import LossyProxy
from ._util import ENV, PASSWORD, live_urls, load, write_config

HOST = "https://shop.example.com"


def _client(base_url: str, max_retries: int = 2) -> AsyncLettr:
    return AsyncLettr(
        API_KEY,
        base_url=base_url,
        rate_limit=None,
        retry_policy=FAST_RETRIES,
        max_retries=max_retries,
    )


@pytest.mark.anyio
async def test_a_create_whose_answer_was_lost_converges_on_rerun(
    fake: FakeLettr, tmp_path: Path
) -> None:
    path = write_config(tmp_path)
    async with LossyProxy(fake.base_url) as proxy:
        proxy.modes = ["lose_answer"]
        async with _client(proxy.base_url, max_retries=0) as client:
            result = await declarative.apply(
                client, await declarative.plan(client, load(path)), concurrency=1
            )
            (failed,) = result.failed
            assert failed.change.name == "shop-orders"
            assert isinstance(failed.error, APIConnectionError)
            assert len(fake.webhooks) == 3  # the create did reach the server
            rerun = await declarative.plan(client, load(path))
            (change,) = rerun.pending
            assert (change.action, change.matched_by) == (Action.UPDATE, "url")
            assert change.send_credentials  # unknown to the lock: sent once more
            assert (await declarative.apply(client, rerun)).ok
            assert not (await declarative.plan(client, load(path))).has_changes
    assert live_urls(fake) == [f"{HOST}/hooks/{n}" for n in ("audit", "crm", "orders")]
    assert [r.method for r in fake.requests].count("POST") == 3


@pytest.mark.anyio
async def test_a_create_answered_409_is_adopted_and_updated(
    fake: FakeLettr, tmp_path: Path
) -> None:
    path = write_config(tmp_path)
    async with LossyProxy(fake.base_url) as proxy:
        proxy.modes = ["replay"]
        async with _client(proxy.base_url) as client:
            plan = await declarative.plan(client, load(path))
            fake.requests.clear()
            result = await declarative.apply(client, plan, concurrency=1)
            assert result.ok, result.document()
            adopted = [o for o in result.outcomes if o.adopted]
            assert [o.change.name for o in adopted] == ["shop-orders"]
            assert not (await declarative.plan(client, load(path))).has_changes
    statuses = [(r.method, r.status) for r in fake.requests]
    assert statuses[:3] == [("GET", 200), ("POST", 201), ("POST", 409)]
    assert ("PUT", 200) in statuses
    orders_id = adopted[0].webhook.id if adopted[0].webhook else ""
    assert fake.credentials(orders_id)["auth_password"] == PASSWORD
    assert len(fake.webhooks) == 3


MANY = 20


@pytest.fixture
def threaded_fake() -> Iterator[FakeLettr]:
    """A FakeLettr in a thread, for a CLI running in another process."""
    with FakeLettr.in_thread(rate_limit=5) as server:
        yield server


def _many_config(directory: Path) -> Path:
    entries = "\n".join(
        f'[[webhooks]]\nname = "bulk-{i:02d}"\nurl = "${{APP_HOST}}/hooks/{i:02d}"\n'
        for i in range(MANY)
    )
    return write_config(directory, entries)


def _cli(config: Path, fake: FakeLettr, *args: str, rate_limit: str = "4") -> list[str]:
    return [
        sys.executable, "-m", "lettr_async", "--rate-limit", rate_limit, "--max-retries", "3",
        *args, "-f", str(config),
    ]  # fmt: skip


@pytest.mark.slow
def test_an_apply_killed_halfway_converges_when_run_again(
    threaded_fake: FakeLettr, tmp_path: Path
) -> None:
    config = _many_config(tmp_path)
    env = {**os.environ, **ENV, "LETTR_API_KEY": API_KEY, "LETTR_BASE_URL": threaded_fake.base_url}
    process = subprocess.Popen(
        _cli(config, threaded_fake, "apply", "--yes"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        # Wait (polling the server's state) until some, not all, creates are done.
        while len(threaded_fake.webhooks) < 3:
            assert process.poll() is None, "apply ended before it could be killed"
            assert time.monotonic() < deadline, "apply made no progress"
            time.sleep(0.01)
        process.kill()
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert 3 <= len(threaded_fake.webhooks) < MANY  # really interrupted halfway
    # The pacing only had to make the first run slow enough to kill halfway:
    # the rerun goes unpaced, against a server that no longer limits.
    threaded_fake.set_rate_limit(None)
    done = subprocess.run(
        _cli(config, threaded_fake, "apply", "--yes", rate_limit="0"),
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    check = subprocess.run(
        _cli(config, threaded_fake, "plan", "--detailed-exitcode"),
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout.decode()
    urls = [w["url"] for w in threaded_fake.webhooks.values()]
    assert sorted(urls) == [f"{HOST}/hooks/{i:02d}" for i in range(MANY)]
    creates = [r.status for r in threaded_fake.requests if r.method == "POST"]
    assert 409 not in creates  # no duplicate was even attempted
    assert creates.count(201) == MANY


@pytest.mark.anyio
async def test_a_429_storm_leaves_failures_that_a_rerun_finishes(
    fake: FakeLettr, tmp_path: Path
) -> None:
    from lettr_async import RateLimitError
    from lettr_async.testing import Fault

    path = write_config(tmp_path)
    fake.inject(Fault.status(429, headers={"Retry-After": "0"}), method="POST", times=2)
    async with _client(fake.base_url, max_retries=0) as client:
        first = await declarative.apply(
            client, await declarative.plan(client, load(path)), concurrency=1
        )
        assert len(first.failed) == 2
        assert all(isinstance(o.error, RateLimitError) for o in first.failed)
        second = await declarative.apply(client, await declarative.plan(client, load(path)))
        assert [o.change.action for o in second.outcomes] == [Action.CREATE, Action.CREATE]
        assert second.ok
        assert not (await declarative.plan(client, load(path))).has_changes
    assert live_urls(fake) == [f"{HOST}/hooks/{n}" for n in ("audit", "crm", "orders")]
