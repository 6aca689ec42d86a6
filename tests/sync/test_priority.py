"""A sync call from another thread overtakes a bulk job running on the same client."""

from __future__ import annotations

import threading

import pytest

from lettr_async import LettrError
from lettr_async.testing import FakeLettr
from tests.sync.conftest import make_sync_client


def test_sync_get_from_another_thread_overtakes_bulk(fake_thread: FakeLettr) -> None:
    ids = [
        fake_thread.add_webhook(name=f"w{i}", url=f"https://example.com/p/{i}")["id"]
        for i in range(300)
    ]
    fake_thread.set_rate_limit(10)
    client = make_sync_client(fake_thread, rate_limit=10)
    progressed = threading.Event()
    bulk_errors: list[BaseException] = []

    def on_progress(done: int, total: int) -> None:
        if done == 10:
            progressed.set()

    def bulk() -> None:
        try:
            client.webhooks.update_many(
                {i: {"name": "bulk"} for i in ids}, concurrency=8, on_progress=on_progress
            )
        except LettrError as exc:  # close() below cancels the unfinished job
            bulk_errors.append(exc)

    worker = threading.Thread(target=bulk)
    worker.start()
    try:
        assert progressed.wait(30)
        issued_at = len(fake_thread.requests)
        webhook = client.webhooks.get(ids[-1])
    finally:
        client.close()
        worker.join(30)
    assert webhook.id == ids[-1]
    assert not worker.is_alive()
    assert len(bulk_errors) == 1
    after = fake_thread.requests[issued_at:]
    position = next(n for n, r in enumerate(after) if r.method == "GET")
    # At most about two request slots of bulk traffic went ahead of the get.
    assert position <= 2
    assert fake_thread.rate_limited_count == 0
    with pytest.raises(LettrError):
        client.webhooks.get(ids[0])
