"""Start and stop the benchmark servers as subprocesses.

Client and server never share a CPU-bound event loop.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = ["API_KEY", "Server", "fake_lettr", "fast_server", "server_process"]

API_KEY = "lttr_bench_key"
_START_TIMEOUT = 30.0


class Server(str):
    """The base URL, which also knows the server's pid and CPU time."""

    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the server process so far (Linux ``/proc``)."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server_process(args: Sequence[str]) -> Iterator[Server]:
    """Run ``python <args>``, yield the base URL it prints first, then SIGTERM it."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        line: list[str] = []
        assert proc.stdout is not None
        stdout = proc.stdout
        reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(_START_TIMEOUT)
        url = line[0].strip() if line else ""
        if not url.startswith("http"):
            raise RuntimeError(f"server {' '.join(args)} did not start (got {url!r})")
        server = Server(url)
        server.pid = proc.pid
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@contextmanager
def fast_server() -> Iterator[Server]:
    """The minimal aiohttp server of ``benchmarks._fastserver`` (GET one webhook)."""
    with server_process(
        ["-m", "benchmarks._fastserver", "--port", "0", "--api-key", API_KEY]
    ) as url:
        yield url


@contextmanager
def fake_lettr(*, seed: int, rate_limit: int | None) -> Iterator[Server]:
    """FakeLettr (``python -m lettr_async.testing``) with ``seed`` webhooks."""
    args = ["-m", "lettr_async.testing", "--port", "0", "--api-key", API_KEY, "--seed", str(seed)]
    if rate_limit is not None:
        args += ["--rate-limit", str(rate_limit)]
    with server_process(args) as url:
        yield url
