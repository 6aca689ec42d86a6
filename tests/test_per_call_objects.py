"""Objects a call needs are built once, not per call (issue 23): timeouts, GET requests."""

from __future__ import annotations

import pytest

from lettr_async._pipeline import ApiRequest
from lettr_async._transport import _client_timeout
from lettr_async.resources.webhooks import _get_webhook


@pytest.mark.parametrize("seconds", [0.001, 0.5, 4.999])
def test_short_timeouts_are_aiohttps_exact_ones(seconds: float) -> None:
    # aiohttp does not round these (its ceil_threshold is 5 s); longer ones are
    # not aiohttp's at all (tests/test_deadlines.py).
    assert _client_timeout(seconds).total == seconds


def test_no_timeout_is_none() -> None:
    assert _client_timeout(None).total is None


def test_a_get_request_is_built_once_per_id() -> None:
    request = _get_webhook("abc")
    assert request is _get_webhook("abc")
    assert request == ApiRequest("GET", "/webhooks/abc")
    assert request.idempotent
