"""Time-series reads: one user's indicators over a range, raw or rolled up by hour or day.

Raw rows and per-source roll-ups come from the caller's own fact files (Parquet per month,
only the months of the range are opened); merged daily points from the daily summary table.

Hourly buckets, and daily buckets of the sources named by a `source` filter, roll up that
source's rows with the indicator's catalogue roll-up (sum, mean, min, max, last, or a
duration-weighted mean). Daily points without a source filter are the daily summary (the
pipeline's merge of all sources by priority). Pages are keyset cursors over
(indicator, bucket, source).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.errors import InvalidRequestError
from api.pagination import decode_cursor, encode_cursor
from api.schemas.health import Resolution, SeriesPage, SeriesPoint
from indicators import CATALOGUE, Rollup
from mirobody_assets.storage.facts import facts_of

MAX_INDICATORS = 20

# Daily points without a source filter are the daily summary: one value per local day after the
# pipeline merged the sources by priority (an index range on its primary key, cheap).
_MERGED_DAYS = """SELECT indicator, source, day AS bucket, value AS v_merged, unit, n_values AS n
                  FROM daily_summary
                  WHERE user_id = :user AND indicator = ANY(:indicators)
                    AND day >= :start_day AND day <= :end_day {after}
                  ORDER BY indicator, day, source LIMIT :limit"""
_MERGED_AFTER = "AND (indicator, day, source) > (:c_indicator, :c_bucket, :c_source)"
_SECONDS = (pl.col("end_time") - pl.col("time")).dt.total_microseconds() / 1e6
# Every roll-up of a bucket, then each indicator's own one is picked (catalogue roll-up).
_AGGREGATES = {
    Rollup.SUM: pl.col("value").sum(),
    Rollup.MEAN: pl.col("value").mean(),
    Rollup.MIN: pl.col("value").min(),
    Rollup.MAX: pl.col("value").max(),
    Rollup.LAST: pl.col("value").sort_by("time").last(),
    # Rows without durations (or of zero length) fall back to the plain mean.
    Rollup.DURATION_WEIGHTED_MEAN: pl.when(_SECONDS.sum() > 0)
    .then((pl.col("value") * _SECONDS).sum() / _SECONDS.sum())
    .otherwise(pl.col("value").mean()),
}


def check_indicators(ids: list[str]) -> list[str]:
    unknown = [i for i in ids if i not in CATALOGUE]
    if unknown:
        raise InvalidRequestError(
            f"unknown indicator(s): {', '.join(sorted(unknown)[:5])}", code="unknown_indicator"
        )
    if len(set(ids)) > MAX_INDICATORS:
        raise InvalidRequestError(f"at most {MAX_INDICATORS} indicators per request")
    return sorted(set(ids))


def check_sources(sources: list[str]) -> None:
    """A source is a provider slug, optionally '.device': printable, at most 128 characters."""
    if any(len(s) > 128 or not s.isprintable() for s in sources):
        raise InvalidRequestError(
            "source must be printable text of at most 128 characters", code="invalid_source"
        )


def read_series(
    session: Session,
    user_id: uuid.UUID,
    indicators: list[str],
    start: datetime,
    end: datetime,
    resolution: Resolution,
    sources: list[str] | None,
    limit: int,
    cursor: str | None,
) -> SeriesPage:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidRequestError("start and end need a UTC offset", code="naive_datetime")
    if end <= start:
        raise InvalidRequestError("end must be after start")
    ids = check_indicators(indicators)
    check_sources(sources or [])
    after = decode_cursor(cursor, f"series:{resolution}", 3)
    if resolution is Resolution.DAY and not sources:
        return _merged_days(session, user_id, ids, start, end, limit, after)
    store = facts_of(session)
    rows = store.scan_user_times(str(user_id), start.astimezone(UTC), end.astimezone(UTC))
    rows = rows.filter(pl.col("indicator").is_in(ids))
    if sources:
        rows = rows.filter(
            pl.col("source").is_in(sources)
            | pl.col("source").str.split(".").list.first().is_in(sources)
        )
    if resolution is Resolution.RAW:
        frame = rows.select(
            "indicator",
            "source",
            pl.col("time").alias("bucket"),
            "end_time",
            "value",
            "unit",
            pl.lit(1, pl.UInt32).alias("n"),
        )
    else:
        bucket = (
            pl.col("time").dt.truncate("1h") if resolution is Resolution.HOUR else pl.col("day")
        )
        rollup = pl.col("indicator").replace_strict(
            {i: CATALOGUE[i].rollup.value for i in ids}, return_dtype=pl.String
        )
        picked = pl.coalesce(
            *(
                pl.when(rollup == r.value).then(pl.col(f"v_{r.value}"))
                for r in sorted({CATALOGUE[i].rollup for i in ids})
            )
        )
        frame = (
            rows.with_columns(bucket.alias("bucket"))
            .group_by("indicator", "source", "bucket")
            .agg(
                *(
                    agg.alias(f"v_{r.value}")
                    for r, agg in _AGGREGATES.items()
                    if any(CATALOGUE[i].rollup is r for i in ids)
                ),
                pl.col("unit").max(),
                pl.len().cast(pl.UInt32).alias("n"),
            )
            .select("indicator", "source", "bucket", picked.alias("value"), "unit", "n")
        )
    if after:
        c_ind, c_bucket, c_src = after[0], _cursor_bucket(after[1], resolution), after[2]
        ind, bkt, src = pl.col("indicator"), pl.col("bucket"), pl.col("source")
        frame = frame.filter(
            (ind > c_ind)
            | ((ind == c_ind) & ((bkt > c_bucket) | ((bkt == c_bucket) & (src > c_src))))
        )
    page = frame.sort("indicator", "bucket", "source").head(limit + 1).collect()
    points = [_point(row, resolution) for row in page.head(limit).iter_rows(named=True)]
    next_cursor = None
    if page.height > limit:
        last = page.row(limit - 1, named=True)
        next_cursor = encode_cursor(
            f"series:{resolution}", [last["indicator"], str(last["bucket"]), last["source"]]
        )
    return SeriesPage(resolution=resolution, data=points, next_cursor=next_cursor)


def _merged_days(
    session: Session,
    user_id: uuid.UUID,
    ids: list[str],
    start: datetime,
    end: datetime,
    limit: int,
    after: list[str] | None,
) -> SeriesPage:
    params: dict[str, Any] = {
        "user": user_id,
        "indicators": ids,
        "limit": limit + 1,
        "start_day": start.date(),
        "end_day": (end - timedelta(microseconds=1)).date(),
    }
    if after:
        params |= {
            "c_indicator": after[0],
            "c_bucket": _cursor_bucket(after[1], Resolution.DAY),
            "c_source": after[2],
        }
    sql = _MERGED_DAYS.format(after=_MERGED_AFTER if after else "")
    rows = session.execute(text(sql), params).all()
    # Typed by the database already: constructed without re-validating each of a year's points.
    points = [
        SeriesPoint.model_construct(
            indicator=r[0], source=r[1], day=r[2], value=float(r[3]), unit=r[4], count=r[5]
        )
        for r in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(f"series:{Resolution.DAY}", [last[0], str(last[2]), last[1]])
    return SeriesPage(resolution=Resolution.DAY, data=points, next_cursor=next_cursor)


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


def _point(row: dict[str, Any], resolution: Resolution) -> SeriesPoint:
    # Typed by the Parquet schema and the roll-up already: no re-validation per point.
    bucket = row["bucket"]
    if resolution is Resolution.RAW:
        return SeriesPoint.model_construct(
            indicator=row["indicator"],
            source=row["source"],
            start=bucket,
            end=row["end_time"],
            day=None,
            value=row["value"],
            unit=row["unit"],
            count=1,
        )
    if resolution is Resolution.HOUR:
        return SeriesPoint.model_construct(
            indicator=row["indicator"],
            source=row["source"],
            start=bucket,
            end=bucket + timedelta(hours=1),
            day=None,
            value=float(row["value"]),
            unit=row["unit"],
            count=row["n"],
        )
    return SeriesPoint.model_construct(
        indicator=row["indicator"],
        source=row["source"],
        start=None,
        end=None,
        day=bucket,
        value=float(row["value"]),
        unit=row["unit"],
        count=row["n"],
    )
