"""Time-series reads: one user's indicators over a range, raw or rolled up by hour or day.

Hourly buckets, and daily buckets of the sources named by a `source` filter, roll up that
source's rows with the indicator's catalogue roll-up (sum, mean, min, max, last, or a
duration-weighted mean). Daily points without a source filter are the daily summary (the
pipeline's merge of all sources by priority). Pages are keyset cursors over
(indicator, bucket, source).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from api.errors import InvalidRequestError
from api.pagination import decode_cursor, encode_cursor
from api.schemas.health import Resolution, SeriesPage, SeriesPoint
from indicators import CATALOGUE, Rollup

MAX_INDICATORS = 20

_WHERE = """user_id = :user AND indicator = ANY(:indicators)
            AND time >= :start AND time < :end {source}"""
_SOURCE = "AND (source = ANY(:sources) OR split_part(source, '.', 1) = ANY(:sources))"

_RAW = """SELECT indicator, source, time, end_time, value, unit, 1 AS n
          FROM indicator_values WHERE {where} {after}
          ORDER BY indicator, time, source LIMIT :limit"""
_RAW_AFTER = "AND (indicator, time, source) > (:c_indicator, :c_bucket, :c_source)"

_BUCKETED = """
SELECT indicator, source, bucket, {aggregates}, max(unit) AS unit, count(*) AS n
FROM (SELECT indicator, source, {bucket} AS bucket, time, end_time, value, unit
      FROM indicator_values WHERE {where}) AS rows
GROUP BY indicator, source, bucket {after}
ORDER BY indicator, bucket, source LIMIT :limit"""
# Only the roll-ups of the requested indicators are computed ("last" sorts within groups).
_AGGREGATES: dict[Rollup, tuple[str, ...]] = {
    Rollup.SUM: ("sum(value) AS v_sum",),
    Rollup.MEAN: ("avg(value) AS v_mean",),
    Rollup.MIN: ("min(value) AS v_min",),
    Rollup.MAX: ("max(value) AS v_max",),
    Rollup.LAST: ("(array_agg(value ORDER BY time DESC))[1] AS v_last",),
    Rollup.DURATION_WEIGHTED_MEAN: (
        "sum(value * extract(epoch FROM end_time - time)) "
        "/ nullif(sum(extract(epoch FROM end_time - time)), 0) AS v_weighted",
        "avg(value) AS v_mean"),
}
# Daily points without a source filter are the daily summary: one value per local day after the
# pipeline merged the sources by priority (an index range on its primary key, cheap).
_MERGED_DAYS = """SELECT indicator, source, day AS bucket, value AS v_merged, unit, n_values AS n
                  FROM daily_summary
                  WHERE user_id = :user AND indicator = ANY(:indicators)
                    AND day >= :start_day AND day <= :end_day {after}
                  ORDER BY indicator, day, source LIMIT :limit"""
_MERGED_AFTER = "AND (indicator, day, source) > (:c_indicator, :c_bucket, :c_source)"
_BUCKET_AFTER = "HAVING (indicator, bucket, source) > (:c_indicator, :c_bucket, :c_source)"
_BUCKETS = {Resolution.HOUR: "date_trunc('hour', time)", Resolution.DAY: "day"}
_ROLLUP_COLUMN = {Rollup.SUM: "v_sum", Rollup.MEAN: "v_mean", Rollup.MIN: "v_min",
                  Rollup.MAX: "v_max", Rollup.LAST: "v_last",
                  Rollup.DURATION_WEIGHTED_MEAN: "v_weighted"}


def check_indicators(ids: list[str]) -> list[str]:
    unknown = [i for i in ids if i not in CATALOGUE]
    if unknown:
        raise InvalidRequestError(f"unknown indicator(s): {', '.join(sorted(unknown)[:5])}",
                                  code="unknown_indicator")
    if len(set(ids)) > MAX_INDICATORS:
        raise InvalidRequestError(f"at most {MAX_INDICATORS} indicators per request")
    return sorted(set(ids))


def read_series(session: Session, user_id: uuid.UUID, indicators: list[str],
                start: datetime, end: datetime, resolution: Resolution,
                sources: list[str] | None, limit: int, cursor: str | None) -> SeriesPage:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidRequestError("start and end need a UTC offset", code="naive_datetime")
    if end <= start:
        raise InvalidRequestError("end must be after start")
    ids = check_indicators(indicators)
    after = decode_cursor(cursor, f"series:{resolution}", 3)
    params: dict[str, Any] = {"user": user_id, "indicators": ids, "start": start, "end": end,
                              "sources": sources or [], "limit": limit + 1}
    where = _WHERE.format(source=_SOURCE if sources else "")
    if after:
        params |= {"c_indicator": after[0], "c_bucket": _cursor_bucket(after[1], resolution),
                   "c_source": after[2]}
    merged = resolution is Resolution.DAY and not sources
    if resolution is Resolution.RAW:
        sql = _RAW.format(where=where, after=_RAW_AFTER if after else "")
    elif merged:
        params |= {"start_day": start.date(), "end_day": (end - timedelta(microseconds=1)).date()}
        sql = _MERGED_DAYS.format(after=_MERGED_AFTER if after else "")
    else:
        rollups = sorted({CATALOGUE[i].rollup for i in ids})
        aggregates = ", ".join(dict.fromkeys(a for r in rollups for a in _AGGREGATES[r]))
        sql = _BUCKETED.format(aggregates=aggregates, bucket=_BUCKETS[resolution],
                               where=where, after=_BUCKET_AFTER if after else "")
    rows = session.execute(text(sql), params).mappings().all()
    points = [_point(row, resolution) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        bucket_value = last["time"] if resolution is Resolution.RAW else last["bucket"]
        next_cursor = encode_cursor(f"series:{resolution}",
                                    [last["indicator"], str(bucket_value), last["source"]])
    return SeriesPage(resolution=resolution, data=points, next_cursor=next_cursor)


def _cursor_bucket(value: str, resolution: Resolution) -> date | datetime:
    try:
        if resolution is Resolution.DAY:
            return date.fromisoformat(value)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequestError("cursor is not valid", code="invalid_cursor") from None
    if parsed.tzinfo is None:
        raise InvalidRequestError("cursor is not valid", code="invalid_cursor")
    return parsed


def _point(row: Any, resolution: Resolution) -> SeriesPoint:
    if resolution is Resolution.RAW:
        return SeriesPoint(indicator=row["indicator"], source=row["source"], start=row["time"],
                           end=row["end_time"], value=row["value"], unit=row["unit"])
    rollup = CATALOGUE[row["indicator"]].rollup
    value = row["v_merged"] if "v_merged" in row else row[_ROLLUP_COLUMN[rollup]]
    if value is None and rollup is Rollup.DURATION_WEIGHTED_MEAN:  # rows without durations
        value = row["v_mean"]
    bucket = row["bucket"]
    if resolution is Resolution.HOUR:
        return SeriesPoint(indicator=row["indicator"], source=row["source"], start=bucket,
                           end=bucket + timedelta(hours=1), value=float(value),
                           unit=row["unit"], count=row["n"])
    assert isinstance(bucket, date)
    return SeriesPoint(indicator=row["indicator"], source=row["source"], day=bucket,
                       value=float(value), unit=row["unit"], count=row["n"])
