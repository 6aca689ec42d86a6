"""Objects a call needs are built once, not per call (issue 23): timeouts, GET requests."""

from __future__ import annotations

import pytest

from lettr_async._pipeline import ApiRequest
from lettr_async._transport import _client_timeout
from lettr_async.resources.webhooks import _get_webhook


@pytest.mark.parametrize("seconds", [5.0, 29.9999, 30.0, 86_400.0])
def test_long_timeouts_are_shared_and_rounded_up_by_less_than_a_64th(seconds: float) -> None:
    timeout = _client_timeout(seconds)
    assert timeout is _client_timeout(seconds)
    assert timeout.total is not None
    assert seconds <= timeout.total < seconds + 1 / 64


@pytest.mark.parametrize("seconds", [0.001, 0.5, 4.999])
def test_short_timeouts_are_exact(seconds: float) -> None:
    # aiohttp does not round these (its ceil_threshold is 5 s), so neither do we.
    assert _client_timeout(seconds).total == seconds


def test_no_timeout_is_none() -> None:
    assert _client_timeout(None).total is None


def test_a_get_request_is_built_once_per_id() -> None:
    request = _get_webhook("abc")
    assert request is _get_webhook("abc")
    assert request == ApiRequest("GET", "/webhooks/abc")
    assert request.idempotent
