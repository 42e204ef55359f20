"""compare_periods: a window of days against the window of the same length just before it."""

from __future__ import annotations

import statistics
import uuid
from datetime import date, timedelta
from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.mcp.context import current_caller
from api.mcp.errors import tool_errors
from api.mcp.tools import ToolSpec
from api.mcp.tools.common import Day, day_window
from api.mcp.tools.health import IndicatorIds
from api.schemas.health import DailySummaryPublic
from api.services.summaries import read_daily_summaries

PAGE = 5000


class Window(BaseModel):
    start_day: date
    end_day: date


class Stats(BaseModel):
    """Statistics of the daily values in one window."""

    days_with_data: int
    mean: float
    min: float
    max: float


class IndicatorChange(BaseModel):
    indicator: str
    unit: str | None
    current: Stats | None
    previous: Stats | None
    change: float | None = Field(description="current mean - previous mean")
    change_pct: float | None = Field(description="change as a percentage of the previous mean")


class PeriodComparison(BaseModel):
    current: Window
    previous: Window
    indicators: list[IndicatorChange]


def daily_rows(
    session: Session, user_id: uuid.UUID, start: date, end: date, indicators: list[str] | None
) -> list[DailySummaryPublic]:
    """Every daily summary row in [start, end], page by page through the service."""
    rows: list[DailySummaryPublic] = []
    cursor: str | None = None
    while True:
        page = read_daily_summaries(session, user_id, start, end, indicators, PAGE, cursor)
        rows += page.data
        cursor = page.next_cursor
        if cursor is None:
            return rows


def _stats(values: list[float]) -> Stats | None:
    if not values:
        return None
    return Stats(
        days_with_data=len(values), mean=statistics.fmean(values), min=min(values), max=max(values)
    )


@tool_errors
def compare_periods(
    indicators: IndicatorIds,
    days: Annotated[int, Field(ge=1, le=366, description="Window length in days.")] = 7,
    end_day: Annotated[
        Day | None,
        Field(
            description=(
                "Last day of the current window (YYYY-MM-DD); default: the person's today."
            )
        ),
    ] = None,
) -> PeriodComparison:
    """Compare the daily values of indicators over the last `days` days (ending `end_day`)
    with the `days` days just before: mean, min and max of each window, and the change of the
    mean (absolute and in percent). Good for "how was this week compared to last week?"."""
    caller = current_caller()
    with caller.session() as session:
        user = caller.user(session)
        start, end = day_window(user, None, end_day, days)
        prev_start, prev_end = start - timedelta(days=days), start - timedelta(days=1)
        rows = daily_rows(session, caller.user_id, prev_start, end, indicators)
    changes = []
    for indicator in sorted(set(indicators)):
        mine = [r for r in rows if r.indicator == indicator]
        current = _stats([r.value for r in mine if r.day >= start])
        previous = _stats([r.value for r in mine if r.day <= prev_end])
        change = current.mean - previous.mean if current and previous else None
        pct = (
            100 * change / abs(previous.mean)
            if change is not None and previous and previous.mean
            else None
        )
        changes.append(
            IndicatorChange(
                indicator=indicator,
                unit=mine[0].unit if mine else None,
                current=current,
                previous=previous,
                change=change,
                change_pct=pct,
            )
        )
    return PeriodComparison(
        current=Window(start_day=start, end_day=end),
        previous=Window(start_day=prev_start, end_day=prev_end),
        indicators=changes,
    )


TOOLS = [ToolSpec(compare_periods)]
