"""User x day partitions, and turning a run's partition keys into a frame of (user, day)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import dagster as dg
import polars as pl

from mirobody_assets.days import history_start

USERS = dg.DynamicPartitionsDefinition(name="users")
# From HISTORY_START (mirobody up pins it to where the initial history starts), so the UI's
# partition fill counts the days this deployment can have, not every day since 2020.
DAYS = dg.DailyPartitionsDefinition(start_date=history_start().isoformat(), end_offset=1)
PARTITIONS = dg.MultiPartitionsDefinition({"date": DAYS, "user": USERS})

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def partition_key(day: date, user: str) -> str:
    return str(dg.MultiPartitionKey({"date": day.isoformat(), "user": user}))


def range_tags(first_day: date, last_day: date, first_user: str, last_user: str) -> dict[str, str]:
    """Tags of one run covering days first..last x users first..last (in partition order)."""
    return {
        RANGE_START: partition_key(first_day, first_user),
        RANGE_END: partition_key(last_day, last_user),
    }


def partitions_frame(keys: list[str]) -> pl.DataFrame:
    """A run's partition keys ('2026-01-01|<user>': dimensions in name order) as a frame of
    user_id, day."""
    pairs = [str(k).split("|", 1) for k in keys]
    return (
        pl.DataFrame(
            {"user_id": [p[1] for p in pairs], "day": [p[0] for p in pairs]},
            schema={"user_id": pl.String, "day": pl.String},
        )
        .with_columns(pl.col("day").str.to_date())
        .unique()
        .sort("user_id", "day")
    )


def context_partitions(context: dg.AssetExecutionContext) -> pl.DataFrame:
    return partitions_frame(list(context.partition_keys))


def user_chunks(parts: pl.DataFrame, users_per_chunk: int) -> Iterator[pl.DataFrame]:
    """The partitions in groups of whole users: each group is still vectorised over its users
    and days, and a long backfill's memory is bounded by one group's data."""
    users = parts.get_column("user_id").unique().sort()
    for start in range(0, users.len(), users_per_chunk):
        chunk = users.slice(start, users_per_chunk)
        yield parts.filter(pl.col("user_id").is_in(chunk.implode()))
