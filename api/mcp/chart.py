"""PNG charts of daily values: a panel per indicator (their units differ), line or bar.

Drawn with matplotlib's object API on an Agg canvas (no pyplot global state), so charts
render safely from worker threads.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Literal

ChartKind = Literal["line", "bar"]
MAX_PANELS = 6


@dataclass(frozen=True)
class Panel:
    indicator: str
    unit: str
    days: list[date]
    values: list[float]


def render_png(panels: list[Panel], kind: ChartKind, title: str) -> bytes:
    """One PNG with a panel per indicator sharing the day axis."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    if not panels or len(panels) > MAX_PANELS:
        raise ValueError(f"a chart has 1 to {MAX_PANELS} panels")
    figure = Figure(figsize=(8, 1.2 + 2.2 * len(panels)), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, panel in zip(axes, panels, strict=True):
        if kind == "bar":
            ax.bar(panel.days, panel.values, width=0.8, color="#3b7dd8")
        else:
            ax.plot(panel.days, panel.values, marker="o", markersize=3, color="#3b7dd8")
        ax.set_ylabel(panel.unit)
        ax.set_title(panel.indicator, loc="left", fontsize=10)
        ax.grid(True, alpha=0.3)
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    axes[-1].xaxis.set_major_locator(locator)
    axes[-1].xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    figure.suptitle(title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
