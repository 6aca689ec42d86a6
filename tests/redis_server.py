"""A real Redis-protocol server (``redis-server`` or ``valkey-server``) for the tests.

Started on a free loopback port with persistence off, once per session
(the ``redis_server`` fixture in tests/conftest.py empties it for each test
and restarts it if a fault test left it stopped). Without a server binary the
tests skip with a reason that says how to get one; under CI (``$CI`` set)
that is a failure instead, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest

from tests.helpers import closed_port

__all__ = ["RedisServer", "started_server"]

_HOW = (
    "needs a redis-server or valkey-server binary on PATH (Debian/Ubuntu: apt-get install "
    "redis-server) and the redis client (pip install -e '.[test]')"
)


def _binary() -> str | None:
    return shutil.which("valkey-server") or shutil.which("redis-server")


class RedisServer:
    """One server process on ``127.0.0.1:port``; ``stop()``/``start()`` simulate an outage."""

    def __init__(self, binary: str, workdir: str) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = closed_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:port/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.workdir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.binary} did not start on port {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Kill the server (SIGKILL: no goodbye to connected clients)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def flush(self) -> None:
        """Empty every database (a test starts with no state)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(b"FLUSHALL\r\n")
            assert sock.recv(16).startswith(b"+OK")


def started_server(workdir: str) -> RedisServer:
    """A running server, or a skip (a failure under CI) saying how to get one."""
    binary = _binary()
    try:
        import redis  # noqa: F401
    except ImportError:
        binary = None
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Redis store tests: {_HOW}")
        pytest.skip(_HOW)
    server = RedisServer(binary, workdir)
    server.start()
    return server
