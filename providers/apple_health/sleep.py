"""Sleep analysis: HealthKit's sleep segments (in bed, asleep core/deep/REM/unspecified,
awake) to nights.

A document (with the parts later exports added to it) holds the segments of the nights that
end on its day (segments from 18:00 local
belong to the next day's night, see `export._day`). Each source's segments are joined into
sessions (a gap over an hour starts a new one); the longest asleep session of the day is the
night: its stage durations, time in bed (the in-bed segments, else the session's span) and
its bedtime and wake time (`providers.sleep_times`, the end read on its own offset). Other
sessions of the day are naps (`nap_duration`), never part of the night's durations."""

from __future__ import annotations

import polars as pl

from providers.apple_health.records import mapping_for, with_unit
from providers.apple_health.types import SLEEP_STAGES, SLEEP_TYPE
from providers.errors import RecordFormatError
from providers.sleep_times import BEDTIME, WAKE_TIME, sleep_clock

SESSION_GAP = pl.duration(hours=1)
_STAGES = ("in_bed", "asleep", "core", "deep", "rem", "awake")
# A night's segments may sit in a day's document and in a part added by a later export.
_BY = ["user_id", "_day", "source"]


def _sessions(frame: pl.DataFrame) -> pl.DataFrame:
    segments = frame.with_columns(
        pl.col("value").replace_strict(SLEEP_STAGES, default=None).alias("_stage"),
        ((pl.col("_end") - pl.col("time")).dt.total_seconds() / 60).alias("_minutes"),
    ).sort([*_BY, "time"])
    unknown = segments.filter(pl.col("_stage").is_null())
    if unknown.height:
        first = unknown.row(0, named=True)
        raise RecordFormatError(
            "apple_health",
            SLEEP_TYPE,
            f"value {first['value']!r} is not a sleep analysis category",
            field="records[].value",
            reason="unknown_code",
            record_ids=(str(first["record_id"]),),
        )
    reach = pl.col("_end").cum_max().shift(1).over(_BY)
    segments = segments.with_columns(
        (reach.is_null() | (pl.col("time") - reach > SESSION_GAP))
        .cum_sum()
        .over(_BY)
        .alias("_session")
    )
    stage_minutes = [
        pl.col("_minutes").filter(pl.col("_stage") == s).sum().alias(s) for s in _STAGES
    ]
    return segments.group_by([*_BY, "_session"]).agg(
        pl.col("record_id").min(),
        pl.col("time").min(),
        pl.col("_end").max().alias("end_time"),
        pl.col("tz_offset_s").sort_by("time").first(),
        pl.col("_end_offset").sort_by("_end").last(),
        *stage_minutes,
    )


def _rows(frame: pl.DataFrame) -> pl.DataFrame:
    sessions = _sessions(frame)
    asleep = pl.col("asleep") + pl.col("core") + pl.col("deep") + pl.col("rem")
    staged = (pl.col("core") + pl.col("deep") + pl.col("rem")) > 0
    span = (pl.col("end_time") - pl.col("time")).dt.total_seconds() / 60
    sessions = sessions.with_columns(
        pl.when(asleep > 0).then(asleep).alias("_asleep"),
        pl.when(pl.col("in_bed") > 0).then(pl.col("in_bed")).otherwise(span).alias("_in_bed"),
    ).with_columns((pl.col("_asleep").fill_null(0) * 100_000 + pl.col("_in_bed")).alias("_score"))
    main = pl.col("_score") == pl.col("_score").max().over(_BY)
    nights = sessions.with_columns(main.alias("_main")).with_columns(
        **sleep_clock(["_asleep"], main=pl.col("_main"), end_offset_s=pl.col("_end_offset"))
    )
    values = {
        "sleep_duration_in_bed": pl.when(pl.col("_main")).then(pl.col("_in_bed")),
        "sleep_duration_asleep": pl.when(pl.col("_main")).then(pl.col("_asleep")),
        "sleep_duration_light": pl.when(pl.col("_main") & staged).then(pl.col("core")),
        "sleep_duration_deep": pl.when(pl.col("_main") & staged).then(pl.col("deep")),
        "sleep_duration_rem": pl.when(pl.col("_main") & staged).then(pl.col("rem")),
        "sleep_duration_awake": pl.when(pl.col("_main") & (staged | (pl.col("awake") > 0))).then(
            pl.col("awake")
        ),
        "sleep_start": pl.col(BEDTIME),
        "sleep_end": pl.col(WAKE_TIME),
        "nap_duration": pl.when(~pl.col("_main")).then(pl.col("_asleep")),
    }
    index = ["user_id", "time", "end_time", "tz_offset_s", "source", "record_id"]
    long = (
        nights.select(*index, **values)
        .unpivot(index=index, variable_name="indicator", value_name="value")
        .filter(pl.col("value").is_not_null())
        .with_columns(pl.lit(None, pl.String).alias("unit"))
    )
    return with_unit(long)


SLEEP = mapping_for(
    SLEEP_TYPE,
    rows=_rows,
    ignored={
        "records.value": "the sleep category (HKCategoryValueSleepAnalysis*): the stage",
        "records.unit": "category samples have none",
    },
)
