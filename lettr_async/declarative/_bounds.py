"""Bounds on a webhooks file, checked on its text before ``tomllib`` parses it.

Why: ``tomllib`` recurses once per level of arrays and inline tables (a few
thousand ``[`` end in ``RecursionError``) and a dotted key a few ten thousand
parts deep (``a.a.a...``, 0.4 MB) takes it gigabytes of memory. A webhooks
file nests three levels at most, so the text is scanned once, cheaply, and
refused beyond ``MAX_FILE_BYTES``, ``MAX_NESTING`` levels of brackets and
braces, or ``MAX_DOTS_PER_LINE`` dots outside strings and comments on one line
(a key, dotted or in a table header, is always on one line).

The scanner skips strings the way TOML reads them (basic, literal and both
multi-line forms, with escapes) and comments, so dots in URLs and brackets in
names do not count. Where it could disagree with TOML the text is invalid, and
``tomllib`` refuses it before it gets deeper than the scanner saw.
"""

from __future__ import annotations

import re

__all__ = ["MAX_DOTS_PER_LINE", "MAX_FILE_BYTES", "MAX_NESTING", "excess"]

MAX_FILE_BYTES = 1024 * 1024
"""The largest webhooks file read (1 MiB: some thousands of entries)."""
MAX_NESTING = 32
"""The deepest nesting of arrays and inline tables (``[`` and ``{``)."""
MAX_DOTS_PER_LINE = 32
"""The most dots outside strings and comments on one line (a dotted key's depth)."""

_TOKEN = re.compile(
    r'"""[^"\\]*(?:(?:\\[\s\S]|"{1,2}(?!"))[^"\\]*)*"{3,5}'  # multi-line basic string
    r"|'''[\s\S]*?'''(?:'{1,2}(?!'))?"  # multi-line literal string
    r'|"[^"\\\n]*(?:\\.[^"\\\n]*)*"'  # basic string (loops unrolled: linear time)
    r"|'[^'\n]*'"  # literal string
    r"|#[^\n]*"  # comment
    r"|[\[\]{}.\n]"  # what nests
)


def excess(text: str) -> str | None:
    """Why ``text`` is refused before parsing, or None when it is within bounds."""
    if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        return f"is larger than {MAX_FILE_BYTES} bytes."
    depth = dots = line = 0
    for match in _TOKEN.finditer(text):
        piece = match.group()
        if piece in ("[", "{"):
            depth += 1
            if depth > MAX_NESTING:
                return f"line {line + 1}: nests arrays or tables more than {MAX_NESTING} deep."
        elif piece in ("]", "}"):
            depth = max(depth - 1, 0)
        elif piece == ".":
            dots += 1
            if dots > MAX_DOTS_PER_LINE:
                return f"line {line + 1}: has more than {MAX_DOTS_PER_LINE} dotted key parts."
        elif piece == "\n":
            line += 1
            dots = 0
        else:  # a string or a comment: it may span lines
            line += piece.count("\n")
    return None
