"""A tiny raw HTTP/1.1 server on loopback whose misbehaviour each test scripts.

FakeLettr speaks the API faithfully through aiohttp; some transport
failures need a server that does what no well-behaved server does (close a
kept-alive connection when the next request arrives, send a huge body),
and that counts every request and connection that reached it.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import attrs

from lettr_async.testing._loopback import stop_accepting

LIST_BODY = json.dumps({"message": "ok", "data": {"webhooks": []}}).encode()


@attrs.define
class Seen:
    """One request as the raw server read it."""

    method: str
    path: str
    connection: int
    index_on_connection: int
    headers: dict[str, str]


Reply = Callable[[Seen], Awaitable[bytes | tuple[bytes, bool] | None]]
"""Returns the raw response bytes, None to close the connection unanswered,
or ``(bytes, True)`` to send the bytes and then close."""


def response(
    status: int = 200,
    body: bytes = LIST_BODY,
    *,
    headers: dict[str, str] | None = None,
    keep_alive: bool = True,
) -> bytes:
    """Raw bytes of a JSON response."""
    head = [f"HTTP/1.1 {status} X", "Content-Type: application/json"]
    head.append(f"Content-Length: {len(body)}")
    head.append("Connection: keep-alive" if keep_alive else "Connection: close")
    head.extend(f"{k}: {v}" for k, v in (headers or {}).items())
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def ok(seen: Seen) -> bytes | None:
    """Answer every request with an empty webhook list."""
    return response()


class RawServer:
    """Counts connections and requests; ``reply`` decides each answer."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.seen: list[Seen] = []
        self.connections = 0
        self.port = 0
        self.scheme = "http"

    @property
    def base_url(self) -> str:
        """The API root to give the client."""
        return f"{self.scheme}://127.0.0.1:{self.port}/api"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        connection = self.connections
        index = 0
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                if length:
                    await reader.readexactly(length)
                index += 1
                seen = Seen(method, path, connection, index, headers)
                self.seen.append(seen)
                answer = await self.reply(seen)
                if answer is None:
                    return
                data, close = answer if isinstance(answer, tuple) else (answer, False)
                writer.write(data)
                await writer.drain()
                if close:
                    return
        except ConnectionError:
            return
        finally:
            writer.close()
            with suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()


@asynccontextmanager
async def raw_server(reply: Reply = ok, *, ssl_context: Any = None) -> AsyncIterator[RawServer]:
    """Serve ``reply`` on a free loopback port for the duration of the block."""
    server = RawServer(reply)
    listener = await asyncio.start_server(server._handle, "127.0.0.1", 0, ssl=ssl_context)
    server.port = listener.sockets[0].getsockname()[1]
    if ssl_context is not None:
        server.scheme = "https"
    try:
        yield server
    finally:
        await stop_accepting(listener.sockets[0])
        listener.close()
        await listener.wait_closed()
