"""``python -m lettr_async.testing``: a standalone FakeLettr until Ctrl-C or SIGTERM.

For trying the SDK (or another language's client) against a local fake, and
for tests that need the server in a separate process. The first stdout line
is the base URL, flushed, so a parent process can read it; the second says
which API key the server accepts (the default one in clear, since nobody
could otherwise guess it; one given with ``--api-key`` is never echoed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from ._server import FakeLettr

__all__ = ["DEFAULT_API_KEY", "main"]

DEFAULT_API_KEY = "lttr_test_key"
"""The key the standalone server accepts unless ``--api-key`` says otherwise."""

_SEED_EVENTS = (None, ["message.delivery", "message.bounce"], ["engagement.open"])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lettr_async.testing", description="Run a fake Lettr API server."
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind")
    parser.add_argument("--port", type=int, default=0, help="port (0 picks a free one)")
    parser.add_argument(
        "--api-key", default=DEFAULT_API_KEY, help=f"accepted API key (default: {DEFAULT_API_KEY})"
    )
    parser.add_argument(
        "--rate-limit", type=int, default=None, help="requests per second (default: unlimited)"
    )
    parser.add_argument("--seed", type=int, default=0, help="pre-create N webhooks")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeLettr(
        api_key=args.api_key, rate_limit=args.rate_limit, host=args.host, port=args.port
    )
    for index in range(args.seed):
        fake.add_webhook(
            name=f"Seed webhook {index + 1}",
            url=f"https://example.com/hooks/{index + 1}",
            events=_SEED_EVENTS[index % len(_SEED_EVENTS)],
        )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stopping.set)
    async with fake:
        given = args.api_key != DEFAULT_API_KEY
        key = "the one given with --api-key" if given else args.api_key
        print(f"{fake.base_url}\nAPI key: {key}", flush=True)
        await stopping.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and serve until interrupted; returns the exit status."""
    args = _parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
