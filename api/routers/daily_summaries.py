"""Daily summaries of the caller (one merged value per day and indicator)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentUser, SessionDep
from api.errors import ERROR_RESPONSES
from api.schemas.health import DailySummariesPage
from api.services.summaries import read_daily_summaries

router = APIRouter(prefix="/v1/daily-summaries", tags=["health data"], responses=ERROR_RESPONSES)


@router.get("", response_model=DailySummariesPage)
def get_daily_summaries(
    user: CurrentUser,
    session: SessionDep,
    start_day: date,
    end_day: date,
    indicator: Annotated[list[str] | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> DailySummariesPage:
    """Daily values per local day (sources merged by declared priority), paged by day."""
    return read_daily_summaries(session, user.id, start_day, end_day, indicator, limit, cursor)
