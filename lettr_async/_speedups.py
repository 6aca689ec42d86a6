"""The ``[speedups]`` extra: msgspec decodes response bodies; the plain path stays the reference.

``loads_body`` is the decoder ``_transport`` uses: msgspec's untyped JSON
decoder when the extra is installed, else ``_converter.loads_json``.
``LETTR_NO_SPEEDUPS=1`` in the environment, read once at import, forces the
plain path so users (and tests) can compare.

Why msgspec and not orjson, measured on the benchmark's 399-byte
``WebhookView`` envelope (CPython 3.11, ``timeit``): ``json.loads`` 9.5 µs,
orjson 2.4 µs, msgspec 3.2 µs. orjson is faster alone, but turns integers
beyond 64 bits into floats where ``json.loads`` keeps them exact, so every
body would need a scan for long digit runs first (a regex costs as much as
``json.loads`` itself, a translate-and-search 1.4 µs). msgspec keeps them
exact, and rejects every body it would read differently.

Why decode only: ``msgspec.convert`` builds the same attrs models about 3x
faster than the converter, but it bypasses the converter's hooks and reads
timestamps its own way: it rounds a 7th fractional digit where
``fromisoformat`` truncates (``.9999995Z`` becomes the next second), keeps
naive and out-of-range (``0001-01-01T00:00:00+01:00``) timestamps the
plain path rejects, and does not normalise event names. Equal models would
need each rule written twice; ``_converter`` stays their one owner, and its
``structure_response`` gets the same value from either decoder.

Equal to the plain path (tests/test_speedups_differential.py): a body msgspec
rejects (``NaN``/``Infinity``, numbers that overflow a float, a BOM, UTF-16
or UTF-32, lone surrogates, invalid UTF-8, integers past Python's digit
limit, nesting past the recursion limit) is decoded again by ``loads_json``,
so users see the plain path's value or error. The one body msgspec might
accept where ``json.loads`` fails is nesting within a few levels of the
recursion limit (they spend the stack differently): a body with more
opening brackets than ``MAX_JSON_DEPTH`` keeps msgspec's value only if it is
measured no deeper than that. (On Python 3.10-3.11, where frames and nesting
share one limit, the fallback runs one frame below ``_transport``'s own call,
so the plain path's limit moves by one level; it already moves with the
caller's stack.)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Final

from ._converter import MAX_JSON_DEPTH, json_depth, loads_json

__all__ = ["DISABLED", "fast_loads", "loads_body"]

Loads = Callable[[bytes], Any]


def _msgspec_loads() -> Loads | None:
    """msgspec's decoder wrapped to fall back on ``loads_json``; None without msgspec."""
    try:
        from msgspec.json import Decoder
    except ImportError:
        return None
    decode = Decoder().decode

    def loads(body: bytes) -> Any:
        """Decode like ``loads_json``, faster: same value, or ``loads_json``'s own error."""
        try:
            value = decode(body)
        except Exception:  # any failure (msgspec 0.19 raises UnicodeDecodeError too):
            return loads_json(body)  # the reference decides
        if (
            body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH
            and json_depth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH
        ):
            return loads_json(body)
        return value

    return loads


fast_loads: Final = _msgspec_loads()
"""The speedups decoder, None when msgspec is not installed (whatever ``DISABLED`` says)."""

DISABLED: Final = os.environ.get("LETTR_NO_SPEEDUPS", "") == "1"
"""``LETTR_NO_SPEEDUPS=1`` at import: decode with the plain path even with msgspec installed."""

loads_body: Final[Loads] = loads_json if fast_loads is None or DISABLED else fast_loads
"""What ``_transport`` decodes response bodies with: ``fast_loads`` when usable."""
