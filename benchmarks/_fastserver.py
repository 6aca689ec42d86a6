"""A minimal, fast stand-in for the Lettr API: ``GET /api/webhooks/{id}`` only.

Answers every authorised ``GET /api/webhooks/<id>`` with one fixed
``WebhookView`` envelope and the headers Lettr sends (``X-RateLimit-*``,
``X-Request-Id``); rate limiting is off. It is a bare asyncio protocol
with canned answers so it is not the bottleneck of the per-call scenarios
(nginx is not installed here; this plays its part). Run as
``python -m benchmarks._fastserver --port 0``: the first stdout line is the
base URL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import signal
import sys
import time
from collections.abc import Sequence

__all__ = ["WEBHOOK_ID", "main"]

WEBHOOK_ID = "webhook-abc123"
PREFIX = "/api/webhooks/"

_VIEW = {
    "id": WEBHOOK_ID,
    "name": "Order notifications",
    "url": "https://example.com/hooks/orders",
    "enabled": True,
    "event_types": ["message.delivery", "message.bounce", "engagement.open"],
    "auth_type": "basic",
    "has_auth_credentials": True,
    "last_successful_at": "2024-01-15T10:30:00+00:00",
    "last_failure_at": None,
    "last_status": "success",
}
_OK_BODY = json.dumps({"message": "Webhook retrieved successfully.", "data": _VIEW}).encode()
_NOT_FOUND = json.dumps({"message": "Not found.", "error_code": "not_found"}).encode()
_UNAUTHORISED = json.dumps({"message": "Invalid API key."}).encode()


class _CannedHTTP(asyncio.Protocol):
    """HTTP/1.1 keep-alive on a bare asyncio protocol: parse the head, answer canned bytes.

    aiohttp.web spends ~250 us of CPU per request on this 2-core machine,
    as much as the clients under test; this costs a few tens, so the
    per-call scenarios measure the clients, not the server.
    """

    def __init__(self, api_key: str, counter: itertools.count[int], limit: int) -> None:
        self._auth = f"authorization: bearer {api_key}".encode().lower()
        self._counter = counter
        self._limit = limit
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self._buffer[:end]
            length = _content_length(head)
            if len(self._buffer) < end + 4 + length:
                return
            self._buffer = self._buffer[end + 4 + length :]
            self._answer(head)

    def _answer(self, head: bytes) -> None:
        request_line, _, header_block = head.partition(b"\r\n")
        parts = request_line.split(b" ")
        path = parts[1].decode("latin-1") if len(parts) > 1 else ""
        if self._auth not in header_block.lower():
            status, body = b"401 Unauthorized", _UNAUTHORISED
        elif parts[0] != b"GET" or not path.startswith(PREFIX) or "/" in path[len(PREFIX) :]:
            status, body = b"404 Not Found", _NOT_FOUND
        else:
            status, body = b"200 OK", _OK_BODY
        now = int(time.time())
        served = next(self._counter)
        assert self._transport is not None
        self._transport.write(
            b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
            b"X-RateLimit-Limit: %d\r\nX-RateLimit-Remaining: %d\r\n"
            b"X-RateLimit-Reset: %d\r\nX-Request-Id: %032x\r\n\r\n%s"
            % (status, len(body), self._limit, self._limit - 1, now + 1, served, body)
        )


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip() or 0)
    return 0


async def _serve(host: str, port: int, api_key: str, limit: int) -> None:
    loop = asyncio.get_running_loop()
    counter = itertools.count(1)
    server = await loop.create_server(
        lambda: _CannedHTTP(api_key, counter, limit), host, port, backlog=1024
    )
    bound = server.sockets[0].getsockname()[1]
    print(f"http://{host}:{bound}/api", flush=True)
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stopping.set)
    try:
        await stopping.wait()
    finally:
        server.close()
        await server.wait_closed()


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM or Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks._fastserver")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default="lttr_bench_key")
    parser.add_argument(
        "--limit", type=int, default=1_000_000, help="the X-RateLimit-Limit header announced"
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.api_key, args.limit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
