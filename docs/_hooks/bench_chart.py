"""MkDocs hook: draw the benchmark table of a page as an inline SVG bar chart.

A page puts ``<!-- bench-chart: ROW LABEL -->`` after a Markdown table; the
hook reads that row's numbers from the table right above it and replaces the
comment with an SVG drawn at build time (no JavaScript, no network), so the
chart can never disagree with the table.
"""

from __future__ import annotations

import html
import re
from typing import Any

_MARKER = re.compile(r"<!-- bench-chart: (?P<row>[^>]+?) -->")
_WIDTH, _BAR_H, _GAP, _LABEL_W = 640, 26, 10, 190


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _number(cell: str) -> float | None:
    match = re.match(r"[\d,]+(\.\d+)?", cell.replace("\u202f", ""))
    return float(match.group(0).replace(",", "")) if match else None


def _table_above(lines: list[str]) -> list[list[str]]:
    rows: list[list[str]] = []
    for line in reversed(lines):
        if not line.strip() or line.startswith("<figure"):  # blank, or an earlier chart
            if rows:
                break
            continue
        if not line.lstrip().startswith("|"):
            break
        rows.append(_cells(line))
    rows.reverse()
    return [row for row in rows if not all(set(c) <= set("-:") for c in row)]


def bar_chart(title: str, labels: list[str], values: list[float]) -> str:
    """An accessible horizontal bar chart as one SVG element."""
    top = max(values) or 1.0
    height = 30 + len(values) * (_BAR_H + _GAP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_WIDTH}" '
        f'height="{height}" viewBox="0 0 {_WIDTH} {height}" aria-label="{html.escape(title)}">',
        f"<title>{html.escape(title)}</title>",
        f'<text x="0" y="16" font-size="14" font-weight="bold" fill="currentColor">'
        f"{html.escape(title)}</text>",
    ]
    span = _WIDTH - _LABEL_W - 80
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 30 + i * (_BAR_H + _GAP)
        width = max(1.0, span * value / top)
        parts += [
            f'<text x="{_LABEL_W - 8}" y="{y + 18}" font-size="13" text-anchor="end" '
            f'fill="currentColor">{html.escape(label)}</text>',
            f'<rect x="{_LABEL_W}" y="{y}" width="{width:.1f}" height="{_BAR_H}" fill="#5c6bc0"/>',
            f'<text x="{_LABEL_W + width + 6:.1f}" y="{y + 18}" font-size="13" '
            f'fill="currentColor">{value:,.0f}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)


def render(markdown: str) -> str:
    """Replace every ``bench-chart`` marker of a page with its chart."""
    out: list[str] = []
    for line in markdown.splitlines():
        match = _MARKER.fullmatch(line.strip())
        if not match:
            out.append(line)
            continue
        table = _table_above(out)
        wanted = match.group("row").strip()
        header = table[0] if table else []
        row = next((r for r in table[1:] if r and r[0].strip("`* ") == wanted), None)
        if row is None:
            raise ValueError(f"bench-chart: no table row {wanted!r} above the marker")
        pairs = [
            (label.strip("`* "), _number(cell))
            for label, cell in zip(header[1:], row[1:], strict=False)
        ]
        labels = [label for label, value in pairs if value is not None]
        values = [value for _, value in pairs if value is not None]
        svg = bar_chart(wanted, labels, values)
        out.append(f'<figure markdown="0">{svg}</figure>')
    return "\n".join(out) + ("\n" if markdown.endswith("\n") else "")


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """MkDocs entry point: charts for the pages that ask for them."""
    return render(markdown) if "bench-chart:" in markdown else markdown
