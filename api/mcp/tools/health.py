"""Health-data tools: the profile, the indicator catalogue, time series and daily values."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from api.mcp.context import current_caller
from api.mcp.errors import tool_errors
from api.mcp.tools import ToolSpec
from api.mcp.tools.common import Day, Moment, aware, truncation_note
from api.schemas.health import (
    DailySummaryPublic,
    HealthProfile,
    IndicatorPublic,
    Resolution,
    SeriesPoint,
)
from api.services.profile import read_profile
from api.services.series import read_series
from api.services.summaries import read_daily_summaries
from indicators import Category, Indicator
from indicators import search_indicators as find_indicators

IndicatorIds = Annotated[
    list[str],
    Field(
        min_length=1,
        max_length=20,
        description=("Indicator ids from search_indicators, e.g. ['heart_rate', 'steps']."),
    ),
]


class IndicatorMatches(BaseModel):
    data: list[IndicatorPublic]
    count: int


class SeriesResult(BaseModel):
    resolution: Resolution
    data: list[SeriesPoint]
    truncated: bool = Field(description="True when more points exist than were returned.")
    note: str | None = None


class DailySummaryResult(BaseModel):
    data: list[DailySummaryPublic]
    truncated: bool = Field(description="True when more rows exist than were returned.")
    note: str | None = None


def indicator_public(entry: Indicator) -> IndicatorPublic:
    return IndicatorPublic(
        id=entry.id,
        name=entry.name,
        category=entry.category.value,
        kind=entry.kind.value,
        unit=entry.unit,
        rollup=entry.rollup.value,
        min_value=entry.min_value,
        max_value=entry.max_value,
        description=entry.description,
        keywords=list(entry.keywords),
    )


@tool_errors
def get_user_health_profile(
    days: Annotated[int, Field(ge=1, le=3660, description="Coverage window in days.")] = 90,
) -> HealthProfile:
    """The person's health profile: linked devices and their sync status, the latest value of
    every indicator (with unit, time and source), the first and last day with data, and how
    many indicators have a daily value on each of the last `days` days. Call this first to
    learn what data exists and which period it covers."""
    caller = current_caller()
    with caller.session() as session:
        return read_profile(session, caller.user(session), days)


@tool_errors
def search_indicators(
    keywords: Annotated[
        str,
        Field(
            max_length=200,
            description=(
                "Words to look for, e.g. 'resting heart', 'sleep deep', 'weight'. Empty lists all."
            ),
        ),
    ],
    category: Annotated[Category | None, Field(description="Only this category.")] = None,
) -> IndicatorMatches:
    """Find standard indicators (ids, names, units, how they roll up) by keywords, best match
    first. Use the returned `id` values with the other tools."""
    found = find_indicators(keywords, category=category)
    return IndicatorMatches(data=[indicator_public(e) for e in found], count=len(found))


@tool_errors
def get_indicator_series(
    indicators: IndicatorIds,
    start: Annotated[
        Moment,
        Field(
            description=(
                "Inclusive start, ISO 8601 (e.g. 2025-01-01T00:00:00). Without an offset it is "
                "read in the person's timezone."
            )
        ),
    ],
    end: Annotated[Moment, Field(description="Exclusive end, same format as start.")],
    resolution: Annotated[
        Resolution,
        Field(
            description=(
                "'raw' rows, or roll-ups per 'hour' or local 'day' (sum for steps, mean for heart "
                "rate, ... per the indicator's roll-up)."
            )
        ),
    ] = Resolution.DAY,
    sources: Annotated[
        list[str] | None,
        Field(
            max_length=20,
            description=(
                "Only these sources: a provider ('whoop') or provider.device ('garmin.fenix7')."
            ),
        ),
    ] = None,
    max_points: Annotated[int, Field(ge=1, le=5000)] = 1000,
) -> SeriesResult:
    """Values of one or more indicators over a time range. 'raw' and 'hour' points are per
    source (device); 'day' points are the merged daily value unless `sources` names devices,
    then each named source is rolled up per day. Prefer 'day' or 'hour' for long ranges;
    'raw' returns every measurement."""
    caller = current_caller()
    with caller.session() as session:
        user = caller.user(session)
        page = read_series(
            session,
            caller.user_id,
            indicators,
            aware(start, user),
            aware(end, user),
            resolution,
            sources,
            max_points,
            None,
        )
    truncated = page.next_cursor is not None
    note = (
        truncation_note(
            max_points, "points", "use a coarser resolution, fewer indicators or a shorter range"
        )
        if truncated
        else None
    )
    return SeriesResult(resolution=resolution, data=page.data, truncated=truncated, note=note)


@tool_errors
def get_daily_summary(
    start_day: Annotated[Day, Field(description="First local day, YYYY-MM-DD.")],
    end_day: Annotated[Day, Field(description="Last local day (inclusive), YYYY-MM-DD.")],
    indicators: Annotated[
        list[str] | None,
        Field(max_length=20, description=("Indicator ids; omit for every indicator with data.")),
    ] = None,
    max_rows: Annotated[int, Field(ge=1, le=5000)] = 1000,
) -> DailySummaryResult:
    """One value per local day and indicator, after merging the person's devices by priority
    (e.g. daily steps, resting heart rate, sleep duration). `source` is the device that won;
    `sources` lists all that reported."""
    caller = current_caller()
    with caller.session() as session:
        page = read_daily_summaries(
            session, caller.user_id, start_day, end_day, indicators, max_rows, None
        )
    truncated = page.next_cursor is not None
    note = (
        truncation_note(max_rows, "rows", "ask for fewer days or indicators") if truncated else None
    )
    return DailySummaryResult(data=page.data, truncated=truncated, note=note)


TOOLS = [
    ToolSpec(get_user_health_profile),
    ToolSpec(search_indicators),
    ToolSpec(get_indicator_series),
    ToolSpec(get_daily_summary),
]
