"""Anchors: records of another type that date a record (WHOOP recovery on its sleep) or give it
its offset (Polar continuous heart rate on the nearest sleep or exercise).

A record type declares its anchors on its `RecordMapping`. Formatting takes them from the
batch being formatted; `anchor_requests` names those the batch may lack, so that the caller
(the pipeline, which owns storage) can load them and pass them in as context: rows that
inform the formatting of others and are not themselves formatted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from providers.mapping import RecordMapping

ANCHOR_REQUEST_COLUMNS: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "record_type": pl.String(),
    "vendor_id": pl.String(),  # one record by id, or null: every record of the day range
    "first_day": pl.Date(),
    "last_day": pl.Date(),
}
"""What to look up: records of a user and record type, by vendor id or by day range."""


@dataclass(frozen=True)
class Anchors:
    """The records of other types one record type is formatted with.

    `id_path`: the payload path naming the one anchor record by its vendor id (WHOOP
    recovery's `sleep_id`). Otherwise the user's records of `record_types` within `days`
    days of the record's day are wanted (the nearest in date is used).
    """

    record_types: tuple[str, ...]
    id_path: str | None = None
    days: int = 0

    def requests(self, sub: pl.DataFrame) -> pl.DataFrame:
        """Anchor requests for the records of `sub` (one record type's raw rows)."""
        if self.id_path is not None:
            wanted = (
                sub.select(
                    "user_id",
                    pl.col("payload").str.json_path_match(f"$.{self.id_path}").alias("vendor_id"),
                )
                .drop_nulls()
                .unique()
            )
            return pl.concat(
                [wanted.with_columns(pl.lit(t).alias("record_type")) for t in self.record_types]
            ).select(
                "user_id",
                "record_type",
                "vendor_id",
                pl.lit(None, pl.Date).alias("first_day"),
                pl.lit(None, pl.Date).alias("last_day"),
            )
        spans = sub.group_by("user_id").agg(
            (pl.col("day").min() - pl.duration(days=self.days)).alias("first_day"),
            (pl.col("day").max() + pl.duration(days=self.days)).alias("last_day"),
        )
        return pl.concat(
            [spans.with_columns(pl.lit(t).alias("record_type")) for t in self.record_types]
        ).select(
            "user_id",
            "record_type",
            pl.lit(None, pl.String).alias("vendor_id"),
            pl.col("first_day").cast(pl.Date),
            pl.col("last_day").cast(pl.Date),
        )


def anchor_requests(raw: pl.DataFrame, mappings: Mapping[str, RecordMapping]) -> pl.DataFrame:
    """The anchors the records of `raw` may need from outside it (by id: only those that are
    not in `raw` already)."""
    parts = []
    for (record_type,), sub in raw.partition_by("record_type", as_dict=True).items():
        mapping = mappings.get(str(record_type))
        if mapping is None or mapping.anchors is None:
            continue
        parts.append(mapping.anchors.requests(sub))
    if not parts:
        return pl.DataFrame(schema=ANCHOR_REQUEST_COLUMNS)
    wanted = pl.concat(parts).cast(ANCHOR_REQUEST_COLUMNS).unique(maintain_order=True)  # type: ignore[arg-type]
    present = raw.select("user_id", "record_type", "vendor_id")
    by_id = wanted.filter(pl.col("vendor_id").is_not_null()).join(
        present, on=["user_id", "record_type", "vendor_id"], how="anti"
    )
    return pl.concat([by_id, wanted.filter(pl.col("vendor_id").is_null())])


def with_context(raw: pl.DataFrame, context: pl.DataFrame | None) -> pl.DataFrame:
    """`raw` plus the context records it does not already hold (by record type and id)."""
    if context is None or context.height == 0:
        return raw
    extra = context.select(raw.columns).join(
        raw.select("user_id", "record_type", "vendor_id"),
        on=["user_id", "record_type", "vendor_id"],
        how="anti",
    )
    return pl.concat([raw, extra], how="vertical") if extra.height else raw
