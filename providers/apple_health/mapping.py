"""Apple Health raw documents to catalogue indicators.

A document holds the records of one HealthKit type on one local day (`{"type", "day",
"records": [...]}`, see `providers.apple_health.export`). Times are written with their own
offset (`2025-03-30 07:12:00 +0200`): each record keeps it. Units vary per record (the unit
the Health app displays): each record is converted by its own unit. The source is the
record's device: `apple_health.watch`, `apple_health.iphone`, else the writing app or device
by its `sourceName` (`apple_health.oura`), so that priorities can prefer a watch over a
phone, and a day never sums two devices."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from indicators.units import indicator_conversion
from providers.apple_health.records import (
    RECORD_PATHS,
    apple_source,
    check_problems,
    explode_records,
    mapping_for,
    no_duplicate_keys,
    with_unit,
)
from providers.apple_health.sleep import SLEEP
from providers.apple_health.types import MINDFUL_TYPE, QUANTITY_TYPES, WORKOUT_TYPE
from providers.apple_health.workouts import WORKOUT
from providers.errors import RecordFormatError
from providers.mapping import RecordMapping

PROVIDER = "apple_health"


def _conversions() -> pl.DataFrame:
    """(type, unit) -> indicator, scale, offset, cumulative: one row per accepted unit."""
    rows: dict[str, list[object]] = {
        k: [] for k in ("_type", "unit", "indicator", "scale", "offset", "cumulative")
    }
    for hk_type, spec in QUANTITY_TYPES.items():
        for apple_unit, unit in spec.units.items():
            scale, offset = indicator_conversion(spec.indicator, unit)
            for key, value in (
                ("_type", hk_type),
                ("unit", apple_unit),
                ("indicator", spec.indicator),
                ("scale", scale),
                ("offset", offset),
                ("cumulative", spec.cumulative),
            ):
                rows[key].append(value)
    return pl.DataFrame(
        rows,
        schema={
            "_type": pl.String,
            "unit": pl.String,
            "indicator": pl.String,
            "scale": pl.Float64,
            "offset": pl.Float64,
            "cumulative": pl.Boolean,
        },
    )


CONVERSIONS = _conversions()


def _quantity_rows(hk_type: str) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def rows(frame: pl.DataFrame) -> pl.DataFrame:
        joined = frame.with_columns(pl.lit(hk_type).alias("_type")).join(
            CONVERSIONS, on=["_type", "unit"], how="left"
        )
        unknown = joined.filter(pl.col("indicator").is_null())
        if unknown.height:
            first = unknown.row(0, named=True)
            raise RecordFormatError(
                PROVIDER,
                hk_type,
                f"unit {first['unit']!r} of {hk_type} is not one the "
                f"mapping converts ({', '.join(sorted(QUANTITY_TYPES[hk_type].units))})",
                field="records[].unit",
                reason="unknown_code",
                record_ids=(str(first["record_id"]),),
            )
        value = pl.col("value").cast(pl.Float64, strict=False)
        bad = joined.filter(value.is_null())
        if bad.height:
            raise RecordFormatError(
                PROVIDER,
                hk_type,
                "value is not a number",
                field="records[].value",
                reason="format_error",
                record_ids=(str(bad.row(0, named=True)["record_id"]),),
            )
        out = joined.select(
            "user_id",
            "indicator",
            "time",
            pl.when(pl.col("cumulative") & (pl.col("_end") > pl.col("time")))
            .then(pl.col("_end"))
            .otherwise(None)
            .alias("end_time"),
            "tz_offset_s",
            (value * pl.col("scale") + pl.col("offset")).alias("value"),
            pl.lit(None, pl.String).alias("unit"),
            "source",
            "record_id",
            "cumulative",
        )
        return no_duplicate_keys(out)

    return rows


def quantity_mapping(hk_type: str) -> RecordMapping:
    return mapping_for(
        hk_type,
        rows=_quantity_rows(hk_type),
        ignored={
            "records.value": "converted by each record's unit (rows)",
            "records.unit": "the value's unit, per record",
        },
    )


def _mindful_rows(frame: pl.DataFrame) -> pl.DataFrame:
    minutes = (pl.col("_end") - pl.col("time")).dt.total_seconds() / 60
    return with_unit(
        frame.select(
            "user_id",
            pl.lit("mindfulness_duration").alias("indicator"),
            "time",
            pl.col("_end").alias("end_time"),
            "tz_offset_s",
            minutes.alias("value"),
            pl.lit(None, pl.String).alias("unit"),
            "source",
            "record_id",
        )
    )


MINDFUL = mapping_for(
    MINDFUL_TYPE,
    rows=_mindful_rows,
    ignored={
        "records.value": "HKCategoryValueNotApplicable: the session's length is the value",
        "records.unit": "category samples have none",
    },
)

MAPPINGS: dict[str, RecordMapping] = {
    **{hk_type: quantity_mapping(hk_type) for hk_type in QUANTITY_TYPES},
    SLEEP.record_type: SLEEP,
    MINDFUL_TYPE: MINDFUL,
    WORKOUT_TYPE: WORKOUT,
}

__all__ = [
    "MAPPINGS",
    "PROVIDER",
    "RECORD_PATHS",
    "apple_source",
    "check_problems",
    "explode_records",
]
