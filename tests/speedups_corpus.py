"""Bodies both decoders must read alike, and the end-to-end run over them.

``CORPUS`` is every hostile case of the ``[speedups]`` brief (issue 23) plus
the contract's own response examples. ``python -m tests.speedups_corpus``
serves each body from a FakeLettr (200 and error statuses) to
``webhooks.get``/``list``, adds real webhooks, and prints one JSON object:
the decoder ``_transport`` uses and every call's outcome (the model's repr,
or the typed error's class, message and fields). The differential test runs
it with and without ``LETTR_NO_SPEEDUPS=1`` and compares the two.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from lettr_async import AsyncLettr, LettrError
from lettr_async._speedups import loads_body
from lettr_async.testing import FakeLettr, Fault

from .contract import spec

__all__ = ["CORPUS", "describe_error", "main", "response_examples"]

_VIEW = (
    b'{"id": "webhook-abc123", "name": "Orders", "url": "https://example.com/h", '
    b'"enabled": true, "event_types": ["message.delivery"], "auth_type": "none", '
    b'"has_auth_credentials": false, "last_successful_at": %s, '
    b'"last_failure_at": null, "last_status": %s}'
)


def _envelope(last_successful_at: bytes = b"null", last_status: bytes = b"null") -> bytes:
    return b'{"message": "ok", "data": ' + _VIEW % (last_successful_at, last_status) + b"}"


def _nested(depth: int, inner: bytes = b"1") -> bytes:
    return b"[" * depth + inner + b"]" * depth


CORPUS: dict[str, bytes] = {
    "valid": _envelope(),
    "list": b'{"data": {"webhooks": [' + _VIEW % (b"null", b'"success"') + b"]}}",
    "message only": b'{"message": "Webhook deleted successfully."}',
    "empty": b"",
    "whitespace": b" \r\n\t",
    "huge int": _envelope(last_status=b"123456789012345678901234567890"),
    "huge negative int": b'{"message": -9223372036854775809}',
    "u64 max + 1": b'{"message": 18446744073709551616, "data": 1}',
    "int past the digit limit": b'{"message": ' + b"7" * 5000 + b"}",
    "NaN": _envelope(last_status=b"NaN"),
    "Infinity": b'{"message": [Infinity, -Infinity], "data": {}}',
    "float overflow": b'{"message": 1e400}',
    "long mantissa": b'{"message": 0.1000000000000000055511151231257827021181583404541015625}',
    "7 fractional digits": _envelope(last_successful_at=b'"2024-01-15T10:30:00.1234567+00:00"'),
    "9 fractional digits Z": _envelope(last_successful_at=b'"2024-01-15T10:30:00.123456789Z"'),
    "duplicate keys": b'{"data": 1, "message": "a", "data": {"webhooks": []}, "message": "b"}',
    "duplicate field": _envelope()[:-2] + b', "auth_type": "basic"}}',
    "invalid UTF-8": b'{"message": "\xff\xfe"}',
    "overlong UTF-8": b'{"message": "\xc0\xaf"}',
    "encoded surrogate": b'{"message": "\xed\xa0\x80"}',
    "escaped lone surrogate": b'{"message": "\\ud800"}',
    "escaped surrogate pair": b'{"message": "\\ud83d\\ude00"}',
    "BOM": b"\xef\xbb\xbf" + _envelope(),
    "UTF-16": _envelope().decode().encode("utf-16"),
    "UTF-32 LE": _envelope().decode().encode("utf-32-le"),
    "trailing garbage": _envelope() + b" x",
    "trailing NUL": _envelope() + b"\x00",
    "control character": b'{"message": "a\x01b"}',
    "form feed": b"\x0c{}",
    "truncated": _envelope()[:-3],
    "depth 200": b'{"data": ' + _nested(199) + b"}",
    "depth 201": b'{"data": ' + _nested(200) + b"}",
    "201 brackets, shallow": b'{"data": [' + b",".join([b"[]"] * 200) + b"]}",
    "depth 1000": b'{"data": ' + _nested(999) + b"}",
    "depth 1025": _nested(1025),
    "depth 5000": _nested(5000),
    "depth 200000": b"[" * 200_000,
}
"""Name -> body: the hostile cases of issue 23, each next to a valid envelope."""


def response_examples() -> dict[str, bytes]:
    """Every response example of the vendored OpenAPI document, as JSON bytes."""
    found: dict[str, bytes] = {}
    for path, item in spec()["paths"].items():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                example = response.get("content", {}).get("application/json", {}).get("example")
                if example is not None:
                    found[f"{method} {path} {status}"] = json.dumps(example).encode()
    return found


def describe_error(exc: BaseException) -> list[Any]:
    """Class, message and the fields a user reads; FakeLettr's random request id left out."""
    fields = ("status_code", "error_code", "path", "errors", "body", "retry_after")
    request_id = getattr(exc, "request_id", None)
    message = str(exc).replace(request_id, "<request id>") if request_id else str(exc)
    return [
        type(exc).__name__,
        message,
        *(f"{name}={getattr(exc, name)!r}" for name in fields if hasattr(exc, name)),
    ]


async def _outcomes() -> dict[str, Any]:
    outcomes: dict[str, Any] = {}
    async with FakeLettr() as fake:
        seeded = [
            fake.add_webhook(name="A", url="https://example.com/a"),
            fake.add_webhook(
                name="B",
                url="https://example.com/b",
                auth_type="basic",
                auth_username="user",
                auth_password="secret",
                events=["message.bounce"],
            ),
        ]
        ids = {view["id"]: f"<id {n}>" for n, view in enumerate(seeded)}
        async with AsyncLettr("lttr_test_key", base_url=fake.base_url, max_retries=0) as client:

            async def record(label: str, call: Any) -> None:
                try:
                    text = repr(await call)
                except LettrError as exc:
                    outcomes[label] = describe_error(exc)
                    return
                for real, stable in ids.items():
                    text = text.replace(real, stable)
                outcomes[label] = text

            await record("list seeded", client.webhooks.list())
            for real in ids:
                await record(f"get {ids[real]}", client.webhooks.get(real))
            bodies = {**CORPUS, **response_examples()}
            for status in (200, 404, 500):
                for name, body in bodies.items():
                    for what in ("get", "list"):
                        fault = Fault.status(status, body=body, content_type="application/json")
                        fake.inject(fault, method="GET")
                        call = client.webhooks.get("x") if what == "get" else client.webhooks.list()
                        await record(f"{what} {status} {name}", call)
    return outcomes


def main() -> int:
    """Print the decoder in use and every outcome as one JSON object."""
    report = {"decoder": loads_body.__module__, "outcomes": asyncio.run(_outcomes())}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
