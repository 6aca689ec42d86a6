"""Delivery bodies must be UTF-8: anything else is a 400, as docs/receiving-events.md says.

``json.loads`` given bytes guesses UTF-16 and UTF-32 from the byte pattern
(and accepts UTF-8-encoded surrogates), so those bodies used to be parsed.
"""

from __future__ import annotations

import json

import pytest

from lettr_async.events import WebhookPayloadError, WebhookReceiver, parse_events

from .payloads import Recorder, event

TEXT = event("enc-1").decode()

NOT_UTF8 = {
    "utf-16 with BOM": TEXT.encode("utf-16"),
    "utf-32 with BOM": TEXT.encode("utf-32"),
    "an encoded surrogate": TEXT.replace("enc-1", "enc-\ud800").encode("utf-8", "surrogatepass"),
    "latin-1": TEXT.replace("enc-1", "enc-\u00e9").encode("latin-1"),
    # Without a BOM, ASCII text in UTF-16/32 is valid UTF-8 full of NULs: not JSON.
    "utf-16-le without BOM": TEXT.encode("utf-16-le"),
    "utf-16-be without BOM": TEXT.encode("utf-16-be"),
    "utf-32-be without BOM": TEXT.encode("utf-32-be"),
}


@pytest.mark.parametrize("body", NOT_UTF8.values(), ids=NOT_UTF8.keys())
def test_a_body_that_is_not_utf8_is_refused(body: bytes) -> None:
    with pytest.raises(WebhookPayloadError, match=r"not UTF-8|not valid JSON"):
        parse_events(body)
    recorder = Recorder()
    answer = WebhookReceiver().handle("POST", {}, body, recorder)
    assert answer.status == 400
    assert answer.body["error"] == "malformed payload"
    assert recorder.calls == []


@pytest.mark.parametrize(
    "body",
    [TEXT.encode(), b"\xef\xbb\xbf" + TEXT.encode(), TEXT, bytearray(TEXT.encode())],
    ids=["utf-8", "utf-8 with BOM", "str", "bytearray"],
)
def test_utf8_bodies_still_parse(body: bytes | str) -> None:
    [parsed] = parse_events(body)
    assert parsed.id == "enc-1"


def test_non_ascii_utf8_text_survives() -> None:
    body = json.dumps(json.loads(TEXT.replace("enc-1", "enc-\u00e9\u4e2d")), ensure_ascii=False)
    [parsed] = parse_events(body.encode())
    assert parsed.id == "enc-\u00e9\u4e2d"
