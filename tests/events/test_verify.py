"""Authenticity checks: Basic, Bearer and the Lettr-Signature HMAC."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Any

import pytest

from lettr_async.errors import LettrError
from lettr_async.events import (
    InMemoryDedupStore,
    WebhookReceiver,
    WebhookVerificationError,
    require_basic_auth,
    require_bearer,
    require_signature,
    sign_payload,
    verify_basic_auth,
    verify_bearer,
    verify_signature,
)

SECRET = "whsec_super_secret_value"
BODY = b'[{"msys": {"message_event": {"type": "delivery", "event_id": "1"}}}]'
NOW = 1_700_000_000


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def compare_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Any]]:
    """Record every hmac.compare_digest call (proves constant-time comparison)."""
    calls: list[tuple[Any, Any]] = []
    original: Callable[[Any, Any], bool] = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    return calls


# --- Basic -------------------------------------------------------------------


def test_basic_auth_accepts_exact_credentials() -> None:
    assert verify_basic_auth(basic("lettr", "pa:ss wörd"), "lettr", "pa:ss wörd")
    assert verify_basic_auth("basic " + basic("u", "p")[6:], "u", "p")  # scheme is case-insensitive
    assert verify_basic_auth("  Basic   " + basic("u", "p")[6:] + " ", "u", "p")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Basic",
        "Basic ",
        basic("lettr", "wrong"),
        basic("other", "secret2"),
        basic("lettr", "secret2") + "AA",
        basic("lettr", "secret"),
        basic("lettr:secret2", ""),
        "Bearer " + basic("lettr", "secret2")[6:],
        "Basic not*base64!",
        "Basic bGV0dHI6c2VjcmV0",  # valid base64 of "lettr:secret": wrong password
        "Basic ünïcode",
    ],
)
def test_basic_auth_rejects(header: str | None) -> None:
    assert verify_basic_auth(header, "lettr", "secret2") is False


def test_basic_auth_uses_compare_digest(compare_calls: list[tuple[Any, Any]]) -> None:
    assert not verify_basic_auth(basic("lettr", "wrong"), "lettr", "secret")
    assert compare_calls == [(b"lettr:wrong", b"lettr:secret")]


# --- Bearer ------------------------------------------------------------------


def test_bearer() -> None:
    assert verify_bearer("Bearer tok-123", "tok-123")
    assert verify_bearer("bearer   tok-123 ", "tok-123")
    assert not verify_bearer("Bearer tok-124", "tok-123")
    assert not verify_bearer("Bearer", "tok-123")
    assert not verify_bearer(None, "tok-123")
    assert not verify_bearer("Basic tok-123", "tok-123")
    assert not verify_bearer("Bearer ", "")
    assert not verify_bearer("Bearer tök", "tok")


def test_bearer_uses_compare_digest(compare_calls: list[tuple[Any, Any]]) -> None:
    assert verify_bearer("Bearer abc", "abc")
    assert compare_calls == [(b"abc", b"abc")]


# --- Signature ---------------------------------------------------------------


def test_sign_payload_format() -> None:
    header = sign_payload(BODY, SECRET, timestamp=NOW)
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"
    assert sign_payload(BODY.decode(), SECRET.encode(), timestamp=NOW) == header


def test_signature_round_trip() -> None:
    assert (
        verify_signature(BODY, sign_payload(BODY, SECRET, timestamp=NOW), SECRET, now=NOW) is True
    )
    assert (
        verify_signature(BODY.decode(), sign_payload(BODY, SECRET), SECRET.encode()) is True
    )  # real clock


def test_signature_accepts_any_of_several_v1_secret_rotation() -> None:
    old = sign_payload(BODY, "old-secret", timestamp=NOW).split(",")[1]
    new = sign_payload(BODY, SECRET, timestamp=NOW).split(",")[1]
    assert verify_signature(BODY, f"t={NOW},{old},{new}", SECRET, now=NOW) is True
    assert verify_signature(BODY, f"t={NOW}, {new}, {old}", SECRET, now=NOW) is True
    assert (
        verify_signature(BODY, f"t={NOW},{old},{new.upper()},v0=ignored", "old-secret", now=NOW)
        is True
    )


def test_signature_compares_every_candidate_with_compare_digest(
    compare_calls: list[tuple[Any, Any]],
) -> None:
    good = sign_payload(BODY, SECRET, timestamp=NOW).split(",")[1]
    assert verify_signature(BODY, f"t={NOW},{good},v1=00,v1=ff", SECRET, now=NOW) is True
    assert len(compare_calls) == 3  # no early exit on the first match


def _reason(body: bytes, header: str | None, **kwargs: Any) -> str:
    assert verify_signature(body, header, SECRET, **kwargs) is False
    with pytest.raises(WebhookVerificationError) as info:
        require_signature(body, header, SECRET, **kwargs)
    assert isinstance(info.value, LettrError)
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)
    return info.value.reason


@pytest.mark.parametrize("header", [None, ""])
def test_signature_missing_header(header: str | None) -> None:
    assert _reason(BODY, header, now=NOW) == "missing_header"


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "v1=abcd",
        f"t=,v1={'0' * 64}",
        f"t=abc,v1={'0' * 64}",
        f"t=-5,v1={'0' * 64}",
        f"t=1,t=2,v1={'0' * 64}",
        f"t={NOW}",
        f"t={NOW},v1=",
        f"t=\uff11\uff12,v1={'0' * 64}",  # non-ASCII (fullwidth) digits
    ],
)
def test_signature_malformed_header(header: str) -> None:
    assert _reason(BODY, header, now=NOW) == "malformed_header"


def test_signature_mismatch() -> None:
    good = sign_payload(BODY, SECRET, timestamp=NOW)
    assert _reason(BODY + b" ", good, now=NOW) == "no_matching_signature"
    other = sign_payload(BODY, "another-secret", timestamp=NOW)
    assert _reason(BODY, other, now=NOW) == "no_matching_signature"
    shifted = good.replace(f"t={NOW}", f"t={NOW + 1}")  # timestamp is signed too
    assert _reason(BODY, shifted, now=NOW) == "no_matching_signature"
    assert _reason(BODY, f"t={NOW},v1=zz€", now=NOW) == "no_matching_signature"


@pytest.mark.parametrize("offset", [-301, 301, -10_000, 10_000])
def test_signature_stale_or_future_timestamp(offset: int) -> None:
    header = sign_payload(BODY, SECRET, timestamp=NOW + offset)
    assert _reason(BODY, header, now=NOW) == "timestamp_out_of_tolerance"


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_signature_within_tolerance(offset: int) -> None:
    assert (
        verify_signature(BODY, sign_payload(BODY, SECRET, timestamp=NOW + offset), SECRET, now=NOW)
        is True
    )


def test_signature_custom_tolerance() -> None:
    header = sign_payload(BODY, SECRET, timestamp=NOW - 20)
    assert _reason(BODY, header, now=NOW, tolerance=10) == "timestamp_out_of_tolerance"
    assert verify_signature(BODY, header, SECRET, now=NOW, tolerance=30) is True


def test_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        verify_signature(BODY, "t=1,v1=00", "")
    with pytest.raises(ValueError, match="empty"):
        require_signature(BODY, "t=1,v1=00", "")
    with pytest.raises(ValueError, match="empty"):
        sign_payload(BODY, b"")


# --- Receiver configuration and secrecy ---------------------------------------


def test_receiver_repr_and_logs_hide_secrets(caplog: pytest.LogCaptureFixture) -> None:
    receiver = WebhookReceiver(
        basic_auth=("lettr", "basic-password"),
        bearer_token="bearer-token",
        signing_secret=SECRET,
    )
    text = repr(receiver)
    assert "basic_auth" in text
    for secret in ("basic-password", "bearer-token", SECRET):
        assert secret not in text
    with caplog.at_level(logging.DEBUG, logger="lettr_async.events"):
        response = receiver.handle(
            "POST",
            {"Authorization": basic("lettr", "basic-password"), "Lettr-Signature": "t=1,v1=00"},
            BODY,
            lambda events: None,
        )
    assert response.status == 401
    assert response.body["reason"] == "no_matching_signature"
    assert caplog.records
    for secret in ("basic-password", "bearer-token", SECRET):
        assert secret not in caplog.text
        assert secret not in repr(response)


def test_receiver_accepts_either_basic_or_bearer_when_both_configured() -> None:
    receiver = WebhookReceiver(basic_auth=("u", "p"), bearer_token="t", dedup_store=False)
    for header in (basic("u", "p"), "Bearer t"):
        assert receiver.handle("POST", {"authorization": header}, BODY, list).status == 200
    assert receiver.handle("POST", {"Authorization": "Bearer x"}, BODY, list).status == 401


@pytest.mark.parametrize(
    "kwargs",
    [
        {"basic_auth": ("", "p")},
        {"bearer_token": ""},
        {"signing_secret": b""},
    ],
)
def test_receiver_rejects_empty_credentials(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must"):
        WebhookReceiver(**kwargs)


def test_in_memory_store_is_bounded_and_expires() -> None:
    clock = [0.0]
    store = InMemoryDedupStore(max_size=2, ttl=10, clock=lambda: clock[0])
    assert store.add("a")
    assert not store.add("a")
    assert store.add("b")
    assert store.add("c")  # evicts "a"
    assert "a" not in store
    assert len(store) == 2
    clock[0] = 11
    assert len(store) == 0
    assert store.add("b")
    store.discard("b")
    store.discard("never-added")
    assert store.add("b")
    store.clear()
    assert len(store) == 0
    assert "size=0" in repr(store)
    with pytest.raises(ValueError, match="max_size"):
        InMemoryDedupStore(max_size=0)
    with pytest.raises(ValueError, match="ttl"):
        InMemoryDedupStore(ttl=0)


# --- Consistent results (issue 13) and tolerance validation (issue 10) ---------


def test_the_obvious_if_not_verify_usage_accepts_valid_deliveries() -> None:
    """``if not verify_x(...): reject`` is right for all three checks."""
    signed = sign_payload(BODY, SECRET, timestamp=NOW)
    accepted = [
        verify_signature(BODY, signed, SECRET, now=NOW),
        verify_basic_auth(basic("u", "p"), "u", "p"),
        verify_bearer("Bearer tok", "tok"),
    ]
    assert accepted == [True, True, True]
    rejected = [
        verify_signature(BODY + b"x", signed, SECRET, now=NOW),
        verify_basic_auth(basic("u", "wrong"), "u", "p"),
        verify_bearer("Bearer nope", "tok"),
    ]
    assert rejected == [False, False, False]


def test_require_variants_raise_with_a_reason() -> None:
    require_basic_auth(basic("u", "p"), "u", "p")
    require_bearer("Bearer tok", "tok")
    require_signature(BODY, sign_payload(BODY, SECRET, timestamp=NOW), SECRET, now=NOW)
    with pytest.raises(WebhookVerificationError) as missing:
        require_basic_auth(None, "u", "p")
    assert missing.value.reason == "missing_header"
    with pytest.raises(WebhookVerificationError) as bad:
        require_bearer("Bearer nope", "tok")
    assert bad.value.reason == "bad_credentials"
    assert "tok" not in str(bad.value)


@pytest.mark.parametrize("tolerance", [float("nan"), float("inf"), -1, -0.5, "300", None, True])
def test_tolerance_must_be_finite_and_not_negative(tolerance: Any) -> None:
    header = sign_payload(BODY, SECRET, timestamp=NOW - 10**6)  # a replayed delivery
    with pytest.raises(ValueError, match="tolerance"):
        verify_signature(BODY, header, SECRET, now=NOW, tolerance=tolerance)
    with pytest.raises(ValueError, match="tolerance"):
        require_signature(BODY, header, SECRET, now=NOW, tolerance=tolerance)
    with pytest.raises(ValueError, match="tolerance"):
        WebhookReceiver(signing_secret=SECRET, tolerance=tolerance)


def test_zero_tolerance_accepts_only_the_exact_second() -> None:
    header = sign_payload(BODY, SECRET, timestamp=NOW)
    assert verify_signature(BODY, header, SECRET, now=NOW, tolerance=0) is True
    assert verify_signature(BODY, header, SECRET, now=NOW + 1, tolerance=0) is False


def test_nan_clock_is_rejected_not_accepted() -> None:
    header = sign_payload(BODY, SECRET, timestamp=NOW)
    assert _reason(BODY, header, now=float("nan")) == "timestamp_out_of_tolerance"


def test_overlong_timestamp_is_malformed_not_overflow() -> None:
    ts = "9" * 400
    digest = hmac.new(SECRET.encode(), f"{ts}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert _reason(BODY, f"t={ts},v1={digest}", now=NOW) == "malformed_header"
