"""Garmin summaries whose values do not sit one per field: epochs split by activity type,
naps and sample series inside a night (its SpO2 and breathing, on a source of their own), the
dailies' average stress, and Health Snapshot statistics listed by type. Each function is a
`RecordMapping` hook (`prepare` or `rows`) and stays vectorised."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from indicators.catalogue import get_indicator
from indicators.timeutils import epoch_utc_expr
from indicators.units import indicator_conversion
from providers.formatting import COLUMNS, RecordMapping
from providers.series import Series, explode_series

log = logging.getLogger(__name__)

EPOCH_AMOUNTS = ("steps", "distanceInMeters", "activeKilocalories")


def epoch_buckets(flat: pl.LazyFrame, _raw: pl.DataFrame) -> pl.LazyFrame:
    """One row per 15-minute bucket. Garmin sends one epoch per activity type in a bucket
    (WALKING and SEDENTARY at the same start), so the amounts of a bucket are summed; its
    end is its start plus the durations of its parts. A document seen twice counts once."""

    def total(name: str) -> pl.Expr:  # null stays null instead of becoming 0
        return pl.when(pl.col(name).is_not_null().any()).then(pl.col(name).sum()).alias(name)

    return (
        flat.unique(["user_id", "record_id"], keep="last", maintain_order=True)
        .group_by("user_id", "startTimeInSeconds", maintain_order=True)
        .agg(
            pl.col("record_id").sort().str.join(","),
            pl.col("_day").first(),
            pl.col("startTimeOffsetInSeconds").first(),
            pl.col("durationInSeconds").sum(),
            *(total(name) for name in EPOCH_AMOUNTS),
        )
    )


NAP = pl.Struct(
    {
        "napStartTimeInSeconds": pl.Int64(),
        "napOffsetInSeconds": pl.Int64(),
        "napDurationInSeconds": pl.Int64(),
    }
)


def nap_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """A night's `naps[]` as `nap_duration` sessions of their own: a nap never adds to the
    night's sleep durations (those come from the night's stage fields only)."""
    scale, _ = indicator_conversion("nap_duration", "s")
    naps = (
        frame.select("user_id", "record_id", "source", "tz_offset_s", "naps")
        .explode("naps")
        .drop_nulls("naps")
        .unnest("naps")
    )
    start = pl.col("napStartTimeInSeconds")
    return naps.select(
        "user_id",
        pl.lit("nap_duration").alias("indicator"),
        epoch_utc_expr(start).alias("time"),
        epoch_utc_expr(start + pl.col("napDurationInSeconds")).alias("end_time"),
        pl.coalesce("napOffsetInSeconds", "tz_offset_s").cast(pl.Int32).alias("tz_offset_s"),
        (pl.col("napDurationInSeconds").cast(pl.Float64) * scale).alias("value"),
        pl.lit(get_indicator("nap_duration").unit).alias("unit"),
        "source",
        "record_id",
    )


# A night's own sample series: the pulseox and allDayRespiration summaries carry readings of
# the same night (often the same instants), so these are kept on a source of their own; the
# day's mean of each then comes from one series, and no instant is a duplicate key.
SLEEP_SERIES = (
    Series("timeOffsetSleepSpo2", "spo2", "%"),
    Series("timeOffsetSleepRespiration", "respiratory_rate", "/min"),
)
SLEEP_SERIES_SOURCE = "garmin.sleep"


@dataclass(frozen=True)
class SampledMapping(RecordMapping):
    """A mapping whose `rows` hook also reads keyed sample objects (`read_by_rows`): known
    payload paths, mapped by the hook rather than decoded against a struct."""

    read_by_rows: tuple[str, ...] = ()

    def known_paths(self) -> set[str]:
        return super().known_paths() | set(self.read_by_rows)


def with_payload(record_type: str) -> Callable[[pl.LazyFrame, pl.DataFrame], pl.LazyFrame]:
    """A `prepare` hook joining each record's payload text (keyed sample objects cannot be
    decoded against a fixed struct); a document seen twice in the batch reads its last."""

    def prepare(flat: pl.LazyFrame, raw: pl.DataFrame) -> pl.LazyFrame:
        payloads = (
            raw.filter(pl.col("record_type") == record_type)
            .select("user_id", pl.col("vendor_id").alias("record_id"), "payload")
            .unique(["user_id", "record_id"], keep="last")
        )
        return flat.join(payloads.lazy(), on=["user_id", "record_id"], how="left")

    return prepare


def sleep_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """A night's naps (`nap_rows`) and its SpO2 and respiration samples, each at the night's
    start + its offset in seconds, with the night's UTC offset, on source garmin.sleep."""
    own = frame.with_columns(pl.lit(SLEEP_SERIES_SOURCE).alias("source"))
    return pl.concat(
        [
            nap_rows(frame).select(COLUMNS),
            *(explode_series(own, s).select(COLUMNS) for s in SLEEP_SERIES),
        ]
    )


def daily_stress_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """The dailies' `averageStressLevel` as one stress_level row spanning the summary's day,
    on source garmin.daily: stressDetails' 3-minute readings (source garmin) start at the same
    instant, so one source would hold two rows of one key; the day's mean then comes from the
    readings when they arrived, from Garmin's own average when they did not. Negative values
    are Garmin's "not enough data" (as in the readings) and give no row."""
    return frame.filter(pl.col("averageStressLevel") >= 0).select(
        "user_id",
        pl.lit("stress_level").alias("indicator"),
        "time",
        "end_time",
        "tz_offset_s",
        pl.col("averageStressLevel").cast(pl.Float64).alias("value"),
        pl.lit(get_indicator("stress_level").unit).alias("unit"),
        pl.lit("garmin.daily").alias("source"),
        "record_id",
    )


# Health Snapshot `summaryType` -> (sample indicator, vendor unit) of its `avgValue`
SNAPSHOT_TYPES = {
    "heart_rate": ("heart_rate", "/min"),
    "stress": ("stress_level", "{score}"),
    "spo2": ("spo2", "%"),
    "respiration": ("respiratory_rate", "/min"),
    "sdrr_hrv": ("hrv_sdnn", "ms"),
    "rmssd_hrv": ("hrv_rmssd", "ms"),
}
SNAPSHOT_ITEM = pl.Struct({"summaryType": pl.String(), "avgValue": pl.Float64()})
_WARNED: set[str] = set()


def snapshot_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Each `summaries[]` average of a Health Snapshot as one sample at the snapshot's start.
    Negative averages are Garmin's "not measured" (as in stress samples) and are skipped."""
    items = (
        frame.select("user_id", "record_id", "source", "tz_offset_s", "time", "summaries")
        .explode("summaries")
        .drop_nulls("summaries")
        .unnest("summaries")
    )
    unknown = set(items.get_column("summaryType").drop_nulls().to_list()) - set(SNAPSHOT_TYPES)
    for kind in sorted(unknown - _WARNED):
        _WARNED.add(kind)
        log.warning("garmin healthSnapshot: summaryType %r has no catalogue indicator", kind)
    conversion = {k: indicator_conversion(i, u) for k, (i, u) in SNAPSHOT_TYPES.items()}
    kind = pl.col("summaryType")
    return items.filter(kind.is_in(list(SNAPSHOT_TYPES)) & (pl.col("avgValue") >= 0)).select(
        "user_id",
        kind.replace_strict(
            {k: i for k, (i, _) in SNAPSHOT_TYPES.items()}, return_dtype=pl.String
        ).alias("indicator"),
        "time",
        pl.lit(None, pl.Datetime("us", "UTC")).alias("end_time"),
        "tz_offset_s",
        (
            pl.col("avgValue")
            * kind.replace_strict(
                {k: s for k, (s, _) in conversion.items()}, return_dtype=pl.Float64
            )
            + kind.replace_strict(
                {k: o for k, (_, o) in conversion.items()}, return_dtype=pl.Float64
            )
        ).alias("value"),
        kind.replace_strict(
            {k: get_indicator(i).unit for k, (i, _) in SNAPSHOT_TYPES.items()},
            return_dtype=pl.String,
        ).alias("unit"),
        "source",
        "record_id",
    )


def snapshot_offset() -> pl.Expr:
    """The snapshot's UTC offset. The notes list no `startTimeOffsetInSeconds` for it: when
    absent, the offset nearest 0 that keeps its start on its local `calendarDate` (the day
    is what matters for the daily summary; the instant is exact either way)."""
    local_midnight = pl.col("calendarDate").str.to_date().cast(pl.Datetime("us")).dt.epoch("s")
    earliest = local_midnight - pl.col("startTimeInSeconds")
    fallback = pl.lit(0, pl.Int64).clip(earliest, earliest + 86399)
    return pl.coalesce(pl.col("startTimeOffsetInSeconds"), fallback)
