"""Compression bombs for the raw loopback server, built in milliseconds.

A bomb is a small compressed body that inflates to gigabytes of zeros. After
a full flush deflate starts afresh, so the compressed form of every further
MiB of zeros is the very same bytes: compress two MiB, repeat the second,
and patch the trailer's checksum and size. A 1 GiB gzip bomb is ~1 MB on the
wire and costs no gigabyte of compression to build. Brotli (the ``test``
extra installs it, as ``aiohttp[speedups]`` does for users) streams 1 GiB of
zeros at quality 1 in about half a second into ~190 KB.
"""

from __future__ import annotations

import functools
import struct
import zlib
from typing import Literal

import brotli

from tests.rawserver import Reply, Seen

Encoding = Literal["gzip", "deflate", "br"]
Framing = Literal["length", "chunked", "close"]

_MIB = 1 << 20
_WBITS = {"gzip": 31, "deflate": 15}


@functools.lru_cache(maxsize=4)
def bomb(encoding: Encoding, decoded_mib: int) -> bytes:
    """A valid ``encoding`` stream of ``decoded_mib`` MiB of zeros (checksums take ~1 s/GiB)."""
    block = bytes(_MIB)
    if encoding == "br":
        streaming = brotli.Compressor(quality=1)
        parts: list[bytes] = [streaming.process(block) for _ in range(decoded_mib)]
        parts.append(streaming.finish())
        return b"".join(parts)
    compressor = zlib.compressobj(9, zlib.DEFLATED, _WBITS[encoding])
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush()
    body = first + again * (decoded_mib - 1)
    if encoding == "gzip":
        crc = 0
        for _ in range(decoded_mib):
            crc = zlib.crc32(block, crc)
        return body + end[:-8] + struct.pack("<II", crc, (decoded_mib * _MIB) & 0xFFFFFFFF)
    adler = 1
    for _ in range(decoded_mib):
        adler = zlib.adler32(block, adler)
    return body + end[:-4] + struct.pack(">I", adler)


def encoded_response(body: bytes, encoding: str, framing: Framing) -> tuple[bytes, bool]:
    """Raw response bytes carrying ``body`` with ``Content-Encoding: encoding``.

    ``framing`` is a ``Content-Length``, chunked transfer coding, or neither
    (the body ends when the server closes the connection).
    """
    head = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Encoding: {encoding}"]
    if framing == "length":
        head.append(f"Content-Length: {len(body)}")
    elif framing == "chunked":
        head.append("Transfer-Encoding: chunked")
        step = 64 * 1024
        parts = [body[i : i + step] for i in range(0, len(body), step)]
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    else:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body, framing == "close"


def serving(raw: tuple[bytes, bool]) -> Reply:
    """A raw-server reply that answers every request with ``raw``."""

    async def reply(seen: Seen) -> tuple[bytes, bool]:
        return raw

    return reply
