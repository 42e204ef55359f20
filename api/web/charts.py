"""Charts drawn on the server as inline SVG: no script, no CDN, readable without JavaScript.

Pure functions from points to markup. Colours and fonts come from the stylesheet through
classes (the Content-Security-Policy forbids inline styles); every value is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from markupsafe import Markup, escape

ChartKind = Literal["line", "bar"]
WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28


@dataclass(frozen=True)
class Point:
    at: date | datetime
    value: float


def _x_of(at: date | datetime) -> float:
    if isinstance(at, datetime):
        return at.timestamp()
    return datetime(at.year, at.month, at.day).timestamp()


def _label(at: date | datetime) -> str:
    if isinstance(at, datetime):
        return at.strftime("%Y-%m-%d %H:%M")
    return at.isoformat()


def _nice(value: float) -> str:
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def svg_chart(
    points: Sequence[Point],
    *,
    title: str,
    unit: str,
    kind: ChartKind = "line",
    compact: bool = False,
) -> Markup:
    """An SVG chart of `points` (sorted by time). Bars suit daily totals, lines the rest."""
    height = 120 if compact else HEIGHT
    label = f"{title} ({unit})" if unit else title
    css = "chart compact" if compact else "chart"
    head = (
        f'<svg class="{css}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}</title>"
    )
    if not points:
        empty = (
            f'<text class="chart-empty" x="{WIDTH / 2}" y="{height / 2}" '
            'text-anchor="middle">no data in this range</text></svg>'
        )
        return Markup(head + empty)  # noqa: S704 - the label is escaped in `head`
    xs = [_x_of(p.at) for p in points]
    ys = [p.value for p in points]
    low, high = min(0.0, min(ys)) if kind == "bar" else min(ys), max(ys)
    if high == low:
        high, low = high + 1, low - (0 if kind == "bar" else 1)
    x0, x1 = min(xs), max(xs)
    span = (x1 - x0) or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    slot = plot_w / max(len(points), 1)

    def sx(x: float) -> float:
        return LEFT + (x - x0) / span * plot_w if x1 > x0 else LEFT + plot_w / 2

    def sy(y: float) -> float:
        return TOP + (high - y) / (high - low) * plot_h

    parts = [head]
    for y in (low, (low + high) / 2, high):
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
            f'y1="{sy(y):.1f}" y2="{sy(y):.1f}"/>'
            f'<text class="chart-axis" x="{LEFT - 6}" y="{sy(y) + 4:.1f}" '
            f'text-anchor="end">{escape(_nice(y))}</text>'
        )
    if kind == "bar":
        width = max(slot * 0.7, 1.0)
        for i, p in enumerate(points):
            top = sy(max(p.value, 0.0))
            bar_h = abs(sy(0.0) - sy(p.value))
            centre = LEFT + slot * (i + 0.5)
            parts.append(
                f'<rect class="chart-bar" x="{centre - width / 2:.1f}" y="{top:.1f}" '
                f'width="{width:.1f}" height="{bar_h:.1f}"><title>'
                f"{escape(_label(p.at))}: {escape(_nice(p.value))} {escape(unit)}"
                "</title></rect>"
            )
    else:
        path = " ".join(f"{sx(x):.1f},{sy(p.value):.1f}" for x, p in zip(xs, points, strict=True))
        parts.append(f'<polyline class="chart-line" points="{path}"/>')
        if len(points) <= 120:
            for x, p in zip(xs, points, strict=True):
                parts.append(
                    f'<circle class="chart-dot" cx="{sx(x):.1f}" '
                    f'cy="{sy(p.value):.1f}" r="3"><title>{escape(_label(p.at))}: '
                    f"{escape(_nice(p.value))} {escape(unit)}</title></circle>"
                )
    parts.append(
        f'<text class="chart-axis" x="{LEFT}" y="{height - 8}">'
        f"{escape(_label(points[0].at))}</text>"
        f'<text class="chart-axis" x="{WIDTH - RIGHT}" y="{height - 8}" '
        f'text-anchor="end">{escape(_label(points[-1].at))}</text></svg>'
    )
    return Markup("".join(parts))  # noqa: S704 - every value is escaped as it is placed
