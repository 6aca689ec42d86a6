"""Auth headers that are not UTF-8 get a 401, never a 500 and a traceback.

aiohttp decodes header bytes as UTF-8 with ``surrogateescape``, so
``Authorization: Bearer \\xff\\xfe`` reaches the checks as lone surrogates
(which ``str.encode("utf-8")`` refuses). HTTP clients refuse to send such
headers, so the aiohttp receiver gets raw bytes over a loopback socket;
Django receives header values decoded as latin-1 (PEP 3333, and the same for
ASGI), which its test clients reproduce.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from lettr_async.events import (
    WebhookReceiver,
    WebhookVerificationError,
    require_bearer,
    require_signature,
    verify_bearer,
    verify_signature,
)
from lettr_async.events.aiohttp import webhook_handler

from .payloads import Recorder, event

pytestmark = pytest.mark.anyio

USER, PASSWORD = "lettr", "s3cret-pass"
TOKEN = "oauth-issued-token"
SECRET = "whsec_hostile"

HOSTILE: list[tuple[str, bytes]] = [
    ("/bearer", b"Authorization: Bearer \xff\xfe"),
    ("/bearer", b"Authorization: \xff\xfe " + TOKEN.encode()),
    ("/either", b"Authorization: Bearer \xed\xa0\x80"),
    ("/basic", b"Authorization: Basic \xff\xfe"),
    ("/signed", b"Lettr-Signature: t=1700000000,v1=\xff"),
    ("/signed", b"Lettr-Signature: t=\xff\xfe,v1=00"),
    ("/signed", b"Lettr-Signature: \xff=1,v1=\xc3\xa9"),
]

Send = Callable[[str, bytes], Awaitable[tuple[int, bytes]]]


@pytest.fixture
async def send_raw() -> AsyncIterator[Send]:
    """POST raw header bytes to a real aiohttp server on 127.0.0.1; ``(status, raw reply)``."""
    recorder = Recorder()
    app = web.Application()
    app.router.add_post("/basic", webhook_handler(recorder, basic_auth=(USER, PASSWORD)))
    app.router.add_post("/bearer", webhook_handler(recorder, bearer_token=TOKEN))
    app.router.add_post(
        "/either", webhook_handler(recorder, basic_auth=(USER, PASSWORD), bearer_token=TOKEN)
    )
    app.router.add_post("/signed", webhook_handler(recorder, signing_secret=SECRET))
    async with TestServer(app, host="127.0.0.1") as server:

        async def send(path: str, header: bytes) -> tuple[int, bytes]:
            body = event("hostile-1")
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            try:
                writer.write(
                    b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nConnection: close\r\n"
                    + header
                    + b"\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
                await writer.drain()
                reply = await asyncio.wait_for(reader.read(), 30)
            finally:
                writer.close()
                await writer.wait_closed()
            assert recorder.calls == []
            return int(reply.split(b" ", 2)[1]), reply

        yield send


@pytest.mark.parametrize(("path", "header"), HOSTILE)
async def test_aiohttp_receiver_answers_401_to_undecodable_auth_headers(
    send_raw: Send, path: str, header: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        status, reply = await send_raw(path, header)
    assert status == 401, reply
    assert b'"error": "unauthorized"' in reply
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("header", ["Bearer \udcff\udcfe", "Bearer \ud800", "\udcff x"])
def test_bearer_checks_refuse_unencodable_headers(header: str) -> None:
    assert verify_bearer(header, TOKEN) is False
    with pytest.raises(WebhookVerificationError) as info:
        require_bearer(header, TOKEN)
    assert info.value.reason == "bad_credentials"


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("t=1700000000,v1=\udcff", "no_matching_signature"),
        ("t=1700000000,v1=\ud800\udcff", "no_matching_signature"),
        ("t=\udcff,v1=00", "malformed_header"),
        ("\udcff", "malformed_header"),
    ],
)
def test_signature_checks_refuse_unencodable_headers(header: str, reason: str) -> None:
    body = event("s1")
    assert verify_signature(body, header, SECRET, now=1700000000) is False
    with pytest.raises(WebhookVerificationError) as info:
        require_signature(body, header, SECRET, now=1700000000)
    assert info.value.reason == reason


def test_receiver_core_answers_401_to_surrogates() -> None:
    """Any framework wired to WebhookReceiver gets the same answer (Starlette, Flask...)."""
    receiver = WebhookReceiver(bearer_token=TOKEN, signing_secret=SECRET)
    for headers in (
        {"Authorization": "Bearer \udcff\udcfe"},
        {"Authorization": f"Bearer {TOKEN}", "Lettr-Signature": "t=1,v1=\udcff"},
    ):
        answer = receiver.handle("POST", headers, event("c1"), Recorder())
        assert answer.status == 401


# ------------------------------------------------------------------ Django


def _latin1(raw: bytes) -> tuple[str, str]:
    """A raw header line as a WSGI/ASGI Django request sees it: name, latin-1 value."""
    name, _, value = raw.partition(b": ")
    return name.decode(), value.decode("latin-1")


DJANGO_PATHS = {"/bearer": "/hooks/bearer/", "/basic": "/hooks/basic/", "/signed": "/hooks/signed/"}
DJANGO_HOSTILE = [(DJANGO_PATHS[p], h) for p, h in HOSTILE if p in DJANGO_PATHS]


@pytest.mark.usefixtures("django_app")
@pytest.mark.parametrize(("path", "header"), DJANGO_HOSTILE)
def test_django_receiver_answers_401_to_non_utf8_auth_headers(path: str, header: bytes) -> None:
    from django.test import Client

    from .django_app import urls

    name, value = _latin1(header)
    urls.recorder.reset()
    response = Client().post(
        path, event("dj-1"), content_type="application/json", headers={name: value}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert urls.recorder.calls == []


@pytest.mark.usefixtures("django_app")
@pytest.mark.parametrize(("path", "header"), DJANGO_HOSTILE)
async def test_django_async_receiver_answers_401_to_non_utf8_auth_headers(
    path: str, header: bytes
) -> None:
    from django.test import AsyncClient

    name, value = _latin1(header)
    response = await AsyncClient().post(
        path, event("dj-2"), content_type="application/json", headers={name: value}
    )
    assert response.status_code == 401


def test_basic_header_from_a_real_client_still_works() -> None:
    """The fix rejects only undecodable values: good credentials still pass."""
    good = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    receiver = WebhookReceiver(basic_auth=(USER, PASSWORD), bearer_token=TOKEN)
    assert receiver.handle("POST", {"Authorization": good}, event("ok"), Recorder()).status == 200
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert receiver.handle("POST", bearer, event("ok2"), Recorder()).status == 200
