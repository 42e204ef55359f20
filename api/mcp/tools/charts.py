"""render_chart: daily values of indicators over time as a PNG picture."""

from __future__ import annotations

import base64
from typing import Annotated

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ImageContent, TextContent
from pydantic import Field

from api.mcp.chart import MAX_PANELS, ChartKind, Panel, render_png
from api.mcp.context import current_caller
from api.mcp.errors import tool_errors
from api.mcp.tools import ToolSpec
from api.mcp.tools.common import Day
from api.mcp.tools.periods import daily_rows
from api.services.series import check_indicators


@tool_errors
def render_chart(
    indicators: Annotated[
        list[str],
        Field(
            min_length=1,
            max_length=MAX_PANELS,
            description=("Indicator ids to draw, one panel each (up to 6)."),
        ),
    ],
    start_day: Annotated[Day, Field(description="First local day, YYYY-MM-DD.")],
    end_day: Annotated[Day, Field(description="Last local day (inclusive), YYYY-MM-DD.")],
    kind: Annotated[ChartKind, Field(description="'line' or 'bar'.")] = "line",
    title: Annotated[str | None, Field(max_length=120)] = None,
) -> list[ImageContent | TextContent]:
    """Draw the person's daily values of indicators between two days as a PNG chart (a line
    or bar panel per indicator, with its unit), to show to the person. Returns the picture
    and a one-line caption of what it shows."""
    ids = check_indicators(indicators)
    if (end_day - start_day).days > 3 * 366:
        raise ToolError("at most about three years per chart")
    caller = current_caller()
    with caller.session() as session:
        rows = daily_rows(session, caller.user_id, start_day, end_day, ids)
    panels = []
    for indicator in ids:
        mine = [r for r in rows if r.indicator == indicator]
        if mine:
            panels.append(
                Panel(indicator, mine[0].unit, [r.day for r in mine], [r.value for r in mine])
            )
    if not panels:
        raise ToolError(
            f"no daily values of {', '.join(ids)} between {start_day} and "
            f"{end_day}; get_user_health_profile shows which days have data"
        )
    try:
        png = render_png(panels, kind, title or f"{start_day} to {end_day}")
    except ImportError:  # an installation without matplotlib still serves every other tool
        raise ToolError(
            "charts are not available on this server (matplotlib missing); "
            "use get_daily_summary instead"
        ) from None
    missing = sorted(set(ids) - {p.indicator for p in panels})
    caption = (
        f"{kind} chart of {', '.join(p.indicator for p in panels)} per day, "
        f"{start_day} to {end_day}" + (f"; no data for {', '.join(missing)}" if missing else "")
    )
    return [
        ImageContent(type="image", data=base64.b64encode(png).decode(), mime_type="image/png"),
        TextContent(type="text", text=caption),
    ]


TOOLS = [ToolSpec(render_chart)]
