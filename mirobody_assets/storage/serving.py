"""Partition writes of the Postgres serving tables (daily summaries, the quarantine): replace
exactly a partition's rows in one transaction. The long fact table lives in Parquet (facts.py).

A partition is (user, local day); a run covers any set of them, given as a frame of
(user_id, day) pairs. Every write here deletes exactly those partitions' rows and inserts the
new ones inside the caller's transaction, so a re-run, or a re-run after the process died
mid-write, leaves the same tables.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import Connection, text

from indicators.frames import DAILY_SUMMARY_COLUMNS, INDICATOR_VALUE_COLUMNS
from mirobody_assets.storage.bulk import copy_frame, read_frame
from mirobody_assets.storage.facts import with_local_day

QUARANTINE_TABLE_COLUMNS = [
    "partition_user",
    "partition_day",
    *INDICATOR_VALUE_COLUMNS,
    "reason",
    "record_type",
    "field_path",
    "detail",
]


def in_partitions(
    frame: pl.DataFrame, parts: pl.DataFrame, user_col: str = "user_id", day_col: str = "day"
) -> pl.DataFrame:
    """The rows of `frame` that belong to one of the partitions."""
    keys = parts.select(pl.col("user_id").alias(user_col), pl.col("day").alias(day_col))
    return frame.join(keys, on=[user_col, day_col], how="semi", maintain_order="left")


def _delete(
    conn: Connection,
    table: str,
    parts: pl.DataFrame,
    user_col: str = "user_id",
    day_col: str = "day",
) -> int:
    result = conn.execute(
        text(
            f"DELETE FROM {table} WHERE ({user_col}, {day_col}) IN "  # noqa: S608
            "(SELECT * FROM unnest(CAST(:users AS uuid[]), CAST(:days AS date[])))"
        ),
        {"users": parts["user_id"].to_list(), "days": parts["day"].to_list()},
    )
    return int(result.rowcount or 0)


def replace_quarantine(
    conn: Connection,
    quarantine: pl.DataFrame,
    parts: pl.DataFrame,
    records: pl.DataFrame | None = None,
) -> int:
    """Replace the partitions' quarantined values (kept with their reason, never dropped)
    and raw records that could not be formatted (`records`: RECORD_FAILURE_COLUMNS, each in
    its own day's partition, with record type, field path and detail)."""
    rows = with_local_day(quarantine).with_columns(
        partition_user=pl.col("user_id"),
        # A row without a usable time stays with the first partition of its user in the run.
        partition_day=pl.col("day").fill_null(parts["day"].min()),
    )
    rows = in_partitions(rows, parts, "partition_user", "partition_day")
    if records is not None and records.height:
        whole = in_partitions(records, parts).select(
            pl.col("user_id").alias("partition_user"),
            pl.col("day").alias("partition_day"),
            "user_id",
            pl.col("provider").alias("source"),
            "record_id",
            "record_type",
            "field_path",
            "reason",
            "detail",
        )
        rows = pl.concat([rows, whole], how="diagonal_relaxed")
    _delete(conn, "quarantined_values", parts, "partition_user", "partition_day")
    return copy_frame(
        conn,
        "quarantined_values",
        rows.select(
            *(c if c in rows.columns else pl.lit(None).alias(c) for c in QUARANTINE_TABLE_COLUMNS)
        ),
    )


def replace_daily_summary(conn: Connection, summary: pl.DataFrame, parts: pl.DataFrame) -> int:
    """Replace the partitions' daily summaries."""
    rows = in_partitions(summary, parts)
    _delete(conn, "daily_summary", parts)
    return copy_frame(conn, "daily_summary", rows, list(DAILY_SUMMARY_COLUMNS))


def load_daily_summary(conn: Connection, parts: pl.DataFrame) -> pl.DataFrame:
    """The partitions' stored daily summaries, in the frame contract."""
    cols = ", ".join(f"{c}::text" if c == "user_id" else c for c in DAILY_SUMMARY_COLUMNS)
    params: dict[str, Any] = {"users": parts["user_id"].to_list(), "days": parts["day"].to_list()}
    return read_frame(
        conn,
        f"SELECT {cols} FROM daily_summary WHERE (user_id, day) IN "  # noqa: S608
        "(SELECT * FROM unnest(%(users)s::uuid[], %(days)s::date[])) "
        "ORDER BY user_id, day, indicator",
        params,
        dict(DAILY_SUMMARY_COLUMNS),
    )
