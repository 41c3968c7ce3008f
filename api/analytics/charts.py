"""Charts drawn on the server as inline SVG: no script, no CDN, nothing for a closed network to fetch.

Each chart is an image with a text title for screen readers; the page puts the same numbers in a
table next to it (the accessible alternative). Presentation attributes only — the console's CSP
forbids inline styles.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

BAR = "#1c5d99"  # 7.0:1 on white
TEXT = "#1f1f1f"
HEAT_LOW = (238, 244, 251)
HEAT_HIGH = (20, 72, 128)


def bar_chart(chart_id: str, title: str, rows: list[tuple[str, int]], width: int = 560) -> Markup:
    """Horizontal bars, one per (label, value), largest scale = the largest value."""
    label_w, row_h, pad = 170, 26, 8
    height = pad * 2 + row_h * max(len(rows), 1)
    top = max((v for _, v in rows), default=0) or 1
    span = width - label_w - 70
    parts = [
        f'<svg id="{chart_id}" class="chart" role="img" aria-labelledby="{chart_id}-t" '
        f'viewBox="0 0 {width} {height}" width="100%" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
    ]
    for i, (label, value) in enumerate(rows):
        y = pad + i * row_h
        w = max(round(span * value / top), 1 if value else 0)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" font-size="13" fill="{TEXT}">'
            f"{escape(_short(label))}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{w}" height="{row_h - 8}" fill="{BAR}"/>'
            f'<text x="{label_w + w + 6}" y="{y + 17}" font-size="13" fill="{TEXT}">{value:,}</text>'
        )
    if not rows:
        parts.append(f'<text x="10" y="{pad + 17}" font-size="13" fill="{TEXT}">자료가 없습니다</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label and title above went through escape()


def heatmap(chart_id: str, title: str, grid: list[list[int]], rows: tuple[str, ...]) -> Markup:
    """A weekday × hour grid; darker = more turns (the table alternative carries the numbers)."""
    cell, left, top_pad = 22, 30, 22
    width, height = left + 24 * cell + 4, top_pad + len(rows) * cell + 4
    peak = max((max(r) for r in grid), default=0) or 1
    parts = [
        f'<svg id="{chart_id}" class="chart" role="img" aria-labelledby="{chart_id}-t" '
        f'viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
    ]
    for hour in range(0, 24, 3):
        parts.append(f'<text x="{left + hour * cell + 2}" y="15" font-size="11" fill="{TEXT}">{hour}시</text>')
    for d, name in enumerate(rows):
        y = top_pad + d * cell
        parts.append(f'<text x="4" y="{y + 15}" font-size="12" fill="{TEXT}">{escape(name)}</text>')
        for hour, value in enumerate(grid[d]):
            parts.append(
                f'<rect x="{left + hour * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{_shade(value / peak)}"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label and title above went through escape()


def _shade(share: float) -> str:
    if share <= 0:
        return "#ffffff"
    r, g, b = (round(lo + (hi - lo) * (0.15 + 0.85 * share)) for lo, hi in zip(HEAT_LOW, HEAT_HIGH, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
