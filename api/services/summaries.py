"""Daily summaries: one merged value per (local day, indicator), keyset-paged by day."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from api.errors import InvalidRequestError
from api.pagination import decode_cursor, encode_cursor
from api.schemas.health import DailySummariesPage, DailySummaryPublic
from api.services.series import check_indicators

_SQL = """SELECT indicator, day, value, unit, source, sources, n_values FROM daily_summary
          WHERE user_id = :user AND day >= :start AND day <= :end {indicators} {after}
          ORDER BY day, indicator LIMIT :limit"""


def read_daily_summaries(
    session: Session,
    user_id: uuid.UUID,
    start: date,
    end: date,
    indicators: list[str] | None,
    limit: int,
    cursor: str | None,
) -> DailySummariesPage:
    if end < start:
        raise InvalidRequestError("end_day must not be before start_day")
    after = decode_cursor(cursor, "daily", 2)
    params: dict[str, Any] = {"user": user_id, "start": start, "end": end, "limit": limit + 1}
    if indicators:
        params["indicators"] = check_indicators(indicators)
    if after:
        try:
            params |= {"c_day": date.fromisoformat(after[0]), "c_indicator": after[1]}
        except ValueError:
            raise InvalidRequestError("cursor is not valid", code="invalid_cursor") from None
    sql = _SQL.format(
        indicators="AND indicator = ANY(:indicators)" if indicators else "",
        after="AND (day, indicator) > (:c_day, :c_indicator)" if after else "",
    )
    rows = session.execute(text(sql), params).mappings().all()
    data = [DailySummaryPublic.model_validate(dict(r)) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor("daily", [last["day"].isoformat(), last["indicator"]])
    return DailySummariesPage(data=data, next_cursor=next_cursor)
