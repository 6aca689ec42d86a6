"""Issue 19 hardening of what a hostile server can do; each test failed before its fix.

Item 1: the body cap bounds decoded bytes (compression bombs, every framing, peak
memory measured in a subprocess); item 6: secrets the server echoes are redacted
from errors; item 8: TLS verification cannot be turned off; and the smaller
findings: useful transport error messages, the plain-http warning, the missing
``otel`` extra named.
"""

from __future__ import annotations

import gzip
import json
import ssl
import subprocess
import sys
import textwrap
import traceback
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from lettr_async import (
    APIConnectionError,
    AsyncLettr,
    InsecureBaseURLWarning,
    LettrError,
    TLSCertificateError,
    UnexpectedResponseError,
    ValidationError,
)
from lettr_async.testing import FakeLettr
from lettr_async.testing._oauth import MAX_TOKEN_ANSWER_BYTES
from tests.bombs import Encoding, Framing, bomb, encoded_response, serving
from tests.helpers import API_KEY
from tests.rawserver import LIST_BODY, Reply, Seen, raw_server, response
from tests.test_hardening import (
    BASIC,
    OAUTH_SECRET,
    PASSWORD,
    SECRET_KEY,
    SECRETS,
    assert_no_secret_reachable,
)

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent
FRAMINGS = ("length", "chunked", "close")
GIB_IN_MIB = 1024

# -- 1. the body cap bounds the decoded bytes ---------------------------------------------


@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
async def test_a_compression_bomb_stops_at_the_cap(encoding: Encoding, framing: Framing) -> None:
    body = bomb(encoding, GIB_IN_MIB)
    assert len(body) < 1_100_000  # at most ~1 MB on the wire, 1 GiB decoded
    async with (
        raw_server(serving(encoded_response(body, encoding, framing))) as server,
        AsyncLettr(API_KEY, base_url=server.base_url, rate_limit=None, max_retries=0) as client,
    ):
        with pytest.raises(UnexpectedResponseError, match="larger than") as caught:
            await client.webhooks.list()
    assert caught.value.status_code == 200


@pytest.mark.parametrize("framing", FRAMINGS)
async def test_a_compressed_body_under_the_cap_is_decoded(framing: Framing) -> None:
    raw = encoded_response(gzip.compress(LIST_BODY), "gzip", framing)
    async with (
        raw_server(serving(raw)) as server,
        AsyncLettr(API_KEY, base_url=server.base_url, rate_limit=None, max_retries=0) as client,
    ):
        assert await client.webhooks.list() == []


_PEAK_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, resource, sys
    from lettr_async import AsyncLettr, UnexpectedResponseError
    from lettr_async.testing import FakeLettr
    from tests.bombs import bomb, encoded_response, serving
    from tests.rawserver import raw_server

    def peak_mib():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    async def call(base_url):
        async with AsyncLettr(
            "lttr_key", base_url=base_url, rate_limit=None, max_retries=0
        ) as client:
            try:
                await client.webhooks.list()
            except UnexpectedResponseError as exc:
                return str(exc)
        return "no error"

    async def deliver(base_url):
        async with FakeLettr() as fake:
            fake.add_webhook(name="Bomb", url=base_url + "/hook")
            (report,) = await fake.deliver(["message.delivery"], retry_schedule=[])
        return str(report.attempts)

    async def main(mib, encoding, framing, what):
        raw = encoded_response(bomb(encoding, int(mib)), encoding, framing)
        async with raw_server(serving(raw)) as server:
            before = peak_mib()
            outcome = await (call if what == "call" else deliver)(server.base_url)
        print(json.dumps({"before": before, "after": peak_mib(), "outcome": outcome}))

    asyncio.run(main(*sys.argv[1:]))
    """
)


@pytest.mark.parametrize(
    ("what", "encoding", "framing", "outcome"),
    [
        ("call", "gzip", "length", "larger than"),
        ("call", "gzip", "chunked", "larger than"),
        ("call", "br", "length", "larger than"),
        ("deliver", "gzip", "length", "((200, None),)"),
    ],
)
def test_peak_memory_under_a_gigabyte_bomb_stays_near_the_cap(
    what: str, encoding: str, framing: str, outcome: str
) -> None:
    """The decoded body never exists beyond the cap: peak RSS grows by well under 60 MiB.

    Both the client's calls and FakeLettr's deliveries read bodies this way.
    """
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, str(GIB_IN_MIB), encoding, framing, what],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    measured = json.loads(done.stdout)
    assert measured["after"] - measured["before"] < 60, measured
    assert outcome in measured["outcome"]


async def test_a_token_endpoint_bomb_is_a_failed_attempt(fake: FakeLettr) -> None:
    raw = encoded_response(bomb("gzip", GIB_IN_MIB), "gzip", "length")
    async with raw_server(serving(raw)) as server:
        fake.add_webhook(
            name="OAuth",
            url=f"{server.base_url}/hook",
            auth_type="oauth2",
            oauth_client_id="id",
            oauth_client_secret="client-secret",
            oauth_token_url=f"{server.base_url}/token",
        )
        (report,) = await fake.deliver(["message.delivery"], retry_schedule=[])
    too_large = f"token endpoint answer is over {MAX_TOKEN_ANSWER_BYTES} bytes"
    assert report.attempts == ((None, too_large),)


# -- 8. certificate and host name verification cannot be turned off ---------------------


def _self_signed(folder: Path, name: str, san: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", f"/CN={name}", "-addext", f"subjectAltName={san}",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Self-signed certificates (openssl CLI): one for 127.0.0.1, one for another host."""
    folder = tmp_path_factory.mktemp("tls")
    return {
        "loopback": _self_signed(folder, "loopback", "IP:127.0.0.1"),
        "elsewhere": _self_signed(folder, "elsewhere", "DNS:elsewhere.example"),
    }


def _serving(cert_and_key: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*cert_and_key)
    return context


def _trusting(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


@pytest.mark.parametrize(
    ("served", "trusted", "reason"),
    [("elsewhere", True, "IP address mismatch"), ("loopback", False, "self.signed certificate")],
    ids=["wrong-host", "untrusted"],
)
async def test_a_certificate_failure_gives_ssls_reason(
    certificates: dict[str, tuple[Path, Path]], served: str, trusted: bool, reason: str
) -> None:
    verify = _trusting(certificates[served][0]) if trusted else True
    async with (
        raw_server(ssl_context=_serving(certificates[served])) as server,
        AsyncLettr(API_KEY, base_url=server.base_url, rate_limit=None, verify=verify) as c,
    ):
        with pytest.raises(TLSCertificateError, match=reason) as caught:
            await c.webhooks.list()
    assert "127.0.0.1" in str(caught.value)
    assert server.seen == []


async def test_a_context_without_host_name_checks_is_refused(
    certificates: dict[str, tuple[Path, Path]],
) -> None:
    context = _trusting(certificates["elsewhere"][0])
    context.check_hostname = False  # the wrong-host certificate would now be accepted
    async with raw_server(ssl_context=_serving(certificates["elsewhere"])) as server:
        with pytest.raises(ValidationError) as caught:
            AsyncLettr(API_KEY, base_url=server.base_url, rate_limit=None, verify=context)
    assert list(caught.value.errors) == ["verify"]
    assert "check_hostname" in str(caught.value)
    assert server.seen == []


@pytest.mark.parametrize("turn_off", ["check_hostname", "cert_none"])
async def test_a_context_changed_after_construction_is_refused_before_sending(
    certificates: dict[str, tuple[Path, Path]], turn_off: str
) -> None:
    context = _trusting(certificates["loopback"][0])
    async with (
        raw_server(ssl_context=_serving(certificates["loopback"])) as server,
        AsyncLettr(API_KEY, base_url=server.base_url, rate_limit=None, verify=context) as c,
    ):
        assert await c.webhooks.list() == []  # the session now uses the context
        context.check_hostname = False
        if turn_off == "cert_none":
            context.verify_mode = ssl.CERT_NONE
        with pytest.raises(ValidationError) as caught:
            await c.webhooks.list()
    assert list(caught.value.errors) == ["verify"]
    assert caught.value.attempts == 0
    assert len(server.seen) == 1


# -- messages keep the useful part -------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", "Expected HTTP/"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
    ],
    ids=["status-line", "chunk-size"],
)
async def test_a_malformed_response_error_says_what_was_wrong(raw: bytes, reason: str) -> None:
    async with (
        raw_server(serving((raw, True))) as server,
        AsyncLettr(API_KEY, base_url=server.base_url, rate_limit=None, max_retries=0) as client,
    ):
        with pytest.raises(APIConnectionError) as caught:
            await client.webhooks.list()
    assert reason in str(caught.value)
    assert "ClientResponseError: ClientResponseError" not in str(caught.value)


# -- 6. secrets a server echoes are redacted from errors --------------------------------


def _echo(status: int, *, json_body: bool = True, reason: str = "X") -> Reply:
    """Answer with the Authorization header and the call's credentials echoed everywhere.

    ``BASIC`` is created (with ``PASSWORD``), ``OAUTH_SECRET`` updated.
    """

    async def reply(seen: Seen) -> bytes:
        got = seen.headers.get("authorization", "")
        sent = {"POST": PASSWORD, "PUT": OAUTH_SECRET}.get(seen.method, "")
        echoed = f"{got} {sent} {json.dumps(sent)}"
        if json_body:
            body = json.dumps(
                {
                    "message": f"rejected: {echoed}",
                    "error_code": f"bad {got}",
                    "errors": {"auth_password": [f"{sent!r} is weak"], got: [echoed]},
                    "debug": {"request": {"headers": {"Authorization": got}}, "list": [echoed]},
                }
            ).encode()
        else:
            body = f"<html>{echoed}</html>".encode()
        head = response(status, body, headers={"X-Echo": echoed, "X-Request-Id": got})
        return head.replace(b" X\r\n", f" {reason}\r\n".encode(), 1)

    return reply


def _assert_redacted(exc: BaseException) -> None:
    surfaces = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    surfaces += [repr(getattr(exc, name, None)) for name in ("body", "headers", "errors")]
    for text in surfaces:
        for secret in SECRETS:
            assert secret not in text
    assert_no_secret_reachable(exc)


@pytest.mark.parametrize(
    ("status", "json_body", "reason"),
    [
        (401, True, "X"),
        (422, True, "X"),
        (500, False, "X"),
        (200, False, "X"),
        (302, False, f"Moved {SECRET_KEY}"),
    ],
    ids=["401-json", "422-json", "500-html", "200-not-json", "302-reason"],
)
@pytest.mark.parametrize("call", ["list", "create", "update"])
async def test_secrets_echoed_by_the_server_are_redacted_from_errors(
    status: int, json_body: bool, reason: str, call: str
) -> None:
    async with (
        raw_server(_echo(status, json_body=json_body, reason=reason)) as server,
        AsyncLettr(SECRET_KEY, base_url=server.base_url, rate_limit=None, max_retries=0) as c,
    ):
        calls: dict[str, Callable[[], Awaitable[object]]] = {
            "list": c.webhooks.list,
            "create": lambda: c.webhooks.create(**BASIC),
            "update": lambda: c.webhooks.update("w1", oauth_client_secret=OAUTH_SECRET),
        }
        with pytest.raises(LettrError) as caught:
            await calls[call]()
    assert "***" in str(caught.value) or status == 200
    _assert_redacted(caught.value)


async def test_a_malformed_response_echoing_the_key_is_redacted() -> None:
    async def garbage(seen: Seen) -> tuple[bytes, bool]:
        return f"NOT HTTP {seen.headers['authorization']}\r\n\r\n".encode(), True

    async with (
        raw_server(garbage) as server,
        AsyncLettr(SECRET_KEY, base_url=server.base_url, rate_limit=None, max_retries=0) as c,
    ):
        with pytest.raises(APIConnectionError) as caught:
            await c.webhooks.list()
    assert "Bearer ***" in str(caught.value)
    _assert_redacted(caught.value)


# -- a clear-text base_url to another host is worth a warning ------------------------------


@pytest.mark.parametrize(
    "base_url", ["http://api.lettr.example/api", "http://10.1.2.3:8080/api", "http://[fe80::1]/api"]
)
def test_plain_http_to_another_host_warns(base_url: str) -> None:
    with pytest.warns(InsecureBaseURLWarning, match="unencrypted") as caught:
        AsyncLettr(API_KEY, base_url=base_url)
    assert caught[0].filename == __file__  # points at the line creating the client
    assert API_KEY not in str(caught[0].message)


@pytest.mark.parametrize(
    "base_url",
    [
        "https://api.lettr.example/api",
        "http://127.0.0.1:8080/api",
        "http://127.8.9.10/api",
        "http://[::1]:8080/api",
        "http://localhost:8080/api",
        "http://api.localhost/api",
    ],
)
def test_https_and_loopback_do_not_warn(base_url: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AsyncLettr(API_KEY, base_url=base_url)


# -- an optional extra that is missing says which one to install --------------------------

_WITHOUT_OTEL = textwrap.dedent(
    """
    import sys
    class NoOpenTelemetry:  # as on a core install, without the otel extra
        def find_spec(self, name, path=None, target=None):
            if name == "opentelemetry" or name.startswith("opentelemetry."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    sys.meta_path.insert(0, NoOpenTelemetry())
    try:
        import lettr_async.contrib.opentelemetry
    except ImportError as exc:
        print(type(exc).__name__, exc, sep=": ")
    """
)


def test_the_opentelemetry_helper_without_the_extra_names_it() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_OTEL],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.startswith("ImportError: ")
    assert "pip install 'lettr-async[otel]'" in done.stdout
