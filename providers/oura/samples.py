"""Oura sample objects `{interval, items, timestamp}` (sleep heart rate and HRV, session HRV)
as rows: item i is at `timestamp` + i * `interval` seconds."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from indicators.catalogue import get_indicator
from indicators.timeutils import iso_utc_expr
from indicators.units import indicator_conversion

F, S = pl.Float64(), pl.String()
SAMPLE = {"interval": F, "items": pl.List(F), "timestamp": S}
"""The decoded struct of one sample object (as `paths` under its prefix)."""


def sample_paths(*prefixes: str) -> dict[str, pl.DataType]:
    return {f"{prefix}.{k}": t for prefix in prefixes for k, t in SAMPLE.items()}


def sample_rows(
    prefix: str, indicator: str, unit: str, source: str | None = None
) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """Rows of the sample object at `prefix`: one per non-null item (a null is no reading),
    with the record's UTC offset; on `source` when given, else the record's."""
    scale, offset = indicator_conversion(indicator, unit)
    items, step = pl.col(f"{prefix}.items"), pl.col(f"{prefix}.interval")

    def rows(frame: pl.DataFrame) -> pl.DataFrame:
        return (
            frame.lazy()
            .select(
                "user_id",
                "tz_offset_s",
                "record_id",
                (pl.col("source") if source is None else pl.lit(source)).alias("source"),
                step.alias("_step"),
                iso_utc_expr(f"{prefix}.timestamp").alias("_start"),
                items.alias("_v"),
                pl.int_ranges(0, items.list.len()).alias("_i"),
            )
            .explode("_v", "_i")
            .filter(pl.col("_v").is_not_null())
            .select(
                "user_id",
                pl.lit(indicator).alias("indicator"),
                (
                    pl.col("_start")
                    + pl.duration(
                        microseconds=(pl.col("_i") * pl.col("_step") * 1e6).round().cast(pl.Int64)
                    )
                )
                .dt.cast_time_unit("us")
                .alias("time"),
                pl.lit(None, pl.Datetime("us", "UTC")).alias("end_time"),
                "tz_offset_s",
                (pl.col("_v") * scale + offset).alias("value"),
                pl.lit(get_indicator(indicator).unit).alias("unit"),
                "source",
                "record_id",
            )
            .collect()
        )

    return rows
