"""Time series of the caller's indicators."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import CurrentUser, SessionDep, StateDep
from api.errors import ERROR_RESPONSES
from api.schemas.health import Resolution, SeriesPage
from api.services.series import read_series

router = APIRouter(prefix="/v1/series", tags=["health data"], responses=ERROR_RESPONSES)


@router.get("", response_model=SeriesPage)
def get_series(
    user: CurrentUser,
    session: SessionDep,
    state: StateDep,
    indicator: Annotated[
        list[str],
        Query(min_length=1, max_length=20, description="Indicator ids (repeat the parameter)."),
    ],
    start: Annotated[datetime, Query(description="Inclusive, with a UTC offset.")],
    end: Annotated[datetime, Query(description="Exclusive, with a UTC offset.")],
    resolution: Annotated[
        Resolution,
        Query(
            description=(
                "raw rows, hourly roll-ups per source, or daily values: merged across sources "
                "(the daily summary) unless `source` is given."
            )
        ),
    ] = Resolution.RAW,
    source: Annotated[
        list[str] | None,
        Query(
            max_length=20,
            description=("Only these sources: a provider ('whoop') or a provider.device source."),
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    """Indicator values over a time range (raw, hourly, daily), paged by `next_cursor`."""
    page = read_series(session, user.id, indicator, start, end, resolution, source, limit, cursor)
    state.metrics.rows_processed.labels("series_read").inc(len(page.data))
    # Built by our own model already: serialise once, skip re-validating hundreds of points.
    return Response(page.model_dump_json(), media_type="application/json")
