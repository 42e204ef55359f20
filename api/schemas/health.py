"""Health-data models: indicators, series points, daily summaries, the health profile."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class IndicatorPublic(BaseModel):
    """One standard indicator of the catalogue."""

    id: str
    name: str
    category: str
    kind: str
    unit: str
    rollup: str
    min_value: float
    max_value: float
    description: str
    keywords: list[str]


class IndicatorsPublic(BaseModel):
    data: list[IndicatorPublic]
    count: int


class Resolution(StrEnum):
    RAW = "raw"
    HOUR = "hour"
    DAY = "day"


class SeriesPoint(BaseModel):
    """A value of one indicator: a raw row, an hour of one source, or a local day.

    `start` is the row's time (raw) or the hour's start (hour); `day` is the local day (day
    resolution). `count` is how many raw rows the point rolls up. Daily points without a
    source filter are merged across sources; `source` is then the source that won the merge.
    """

    indicator: str
    source: str
    start: datetime | None = None
    end: datetime | None = None
    day: date | None = None
    value: float
    unit: str
    count: int = 1


class SeriesPage(BaseModel):
    resolution: Resolution
    data: list[SeriesPoint]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page.")


class DailySummaryPublic(BaseModel):
    """The merged value of one indicator on one local day (sources merged by priority)."""

    indicator: str
    day: date
    value: float
    unit: str
    source: str
    sources: str
    n_values: int


class DailySummariesPage(BaseModel):
    data: list[DailySummaryPublic]
    next_cursor: str | None


class LatestValue(BaseModel):
    indicator: str
    value: float
    unit: str
    time: datetime
    source: str


class DayCoverage(BaseModel):
    day: date
    indicators: int


class DeviceSummary(BaseModel):
    provider: str
    status: str
    last_success_at: datetime | None
    needs_reauthorization: bool


class HealthProfile(BaseModel):
    """What we know about the caller: devices, the latest value per indicator, coverage."""

    user_id: str
    timezone: str
    devices: list[DeviceSummary]
    latest: list[LatestValue]
    first_day: date | None
    last_day: date | None
    coverage: list[DayCoverage] = Field(description="Indicators with a daily value, per day.")
