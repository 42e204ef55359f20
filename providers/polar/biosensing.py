"""Polar continuous heart rate and Elixir biosensing to catalogue indicators.

Continuous heart rate gives device-local clock times ("HH:mm:ss") of a local `date` and no
offset. The offset is taken from the same user's Polar sleep (`sleep_start_time` carries it)
or exercise (`start_time_utc_offset`) of the nearest date in the batch being formatted, which
the pipeline completes with the user's stored sleeps and exercises within a week
(`OFFSET_ANCHORS`); when there is none, the person's time zone (indicators.zones). The
nightly skin temperature is dated at the end of the Polar sleep of its `sleep_date` (local
midnight of that date when there is no such sleep)."""

from __future__ import annotations

import logging

import polars as pl

from indicators.catalogue import get_indicator
from indicators.timeutils import epoch_utc_expr, iso_local_expr, iso_offset_expr, iso_utc_expr
from indicators.units import indicator_conversion
from providers.anchors import Anchors
from providers.formatting import COLUMNS, Field, Prepare, RecordMapping

log = logging.getLogger(__name__)
S, INT, F = pl.String(), pl.Int64(), pl.Float64()
_NO_END = pl.lit(None, pl.Datetime("us", "UTC"))
# The sleeps and exercises an offset is taken from: in the batch, else stored within a week.
OFFSET_ANCHORS = Anchors(("sleep", "exercises"), days=7)


def _anchors(raw: pl.DataFrame) -> pl.DataFrame:
    """(user_id, _anchor_day, _offset_s, _sleep_start, _sleep_end) from the user's sleeps
    and exercises (an exercise has no sleep times)."""
    sleeps = raw.filter(pl.col("record_type") == "sleep").select(
        "user_id",
        pl.col("payload")
        .str.json_decode(pl.Struct({"date": S, "sleep_start_time": S, "sleep_end_time": S}))
        .alias("_d"),
    )
    sleeps = sleeps.select(
        "user_id",
        pl.col("_d").struct.field("date").str.to_date(strict=False).alias("_anchor_day"),
        iso_offset_expr(pl.col("_d").struct.field("sleep_start_time")).alias("_offset_s"),
        iso_utc_expr(pl.col("_d").struct.field("sleep_start_time")).alias("_sleep_start"),
        iso_utc_expr(pl.col("_d").struct.field("sleep_end_time")).alias("_sleep_end"),
        pl.lit(0).alias("_rank"),
    )
    exercises = raw.filter(pl.col("record_type") == "exercises").select(
        "user_id",
        pl.col("payload")
        .str.json_decode(pl.Struct({"start_time": S, "start_time_utc_offset": INT}))
        .alias("_d"),
    )
    exercises = exercises.select(
        "user_id",
        pl.col("_d")
        .struct.field("start_time")
        .str.slice(0, 10)
        .str.to_date(strict=False)
        .alias("_anchor_day"),
        (pl.col("_d").struct.field("start_time_utc_offset") * 60).cast(pl.Int32).alias("_offset_s"),
        _NO_END.alias("_sleep_start"),
        _NO_END.alias("_sleep_end"),
        pl.lit(1).alias("_rank"),
    )
    both = pl.concat([sleeps, exercises]).drop_nulls(["_anchor_day", "_offset_s"])
    return (
        both.sort("_rank")
        .unique(["user_id", "_anchor_day"], keep="first")
        .drop("_rank")
        .sort("_anchor_day")
    )


def with_offsets(day: pl.Expr, record_type: str) -> Prepare:
    """A `prepare` hook: `_offset_s` (and `_sleep_start`, `_sleep_end` of that very day's
    sleep) per document."""

    def prepare(flat: pl.LazyFrame, raw: pl.DataFrame) -> pl.LazyFrame:
        frame = flat.collect().with_columns(day.alias("_anchor_day")).sort("_anchor_day")
        anchors = _anchors(raw)
        joined = frame.join_asof(
            anchors.rename({"_anchor_day": "_near"}).with_columns(
                pl.col("_near").alias("_anchor_day")
            ),
            on="_anchor_day",
            by="user_id",
            strategy="nearest",
            check_sortedness=False,
        )  # sorted by day; by-groups follow
        missing = joined.filter(pl.col("_offset_s").is_null()).height
        if missing:
            log.info(
                "polar %s: %d documents without a sleep or exercise nearby: the "
                "person's time zone gives their offset",
                record_type,
                missing,
            )
        same_day = pl.col("_near") == pl.col("_anchor_day")
        return joined.with_columns(
            pl.when(same_day).then(pl.col("_sleep_start")).alias("_sleep_start"),
            pl.when(same_day).then(pl.col("_sleep_end")).alias("_sleep_end"),
        ).lazy()

    return prepare


def local_midnight(date_col: str) -> pl.Expr:
    """UTC instant of 00:00 local on a "YYYY-MM-DD" column, given `_offset_s`; without one
    (no sleep or exercise nearby), the wall clock read as UTC, resolved with the person's zone
    (the mapping's offset is "wall")."""
    midnight = pl.col(date_col).str.to_date().cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return midnight - pl.duration(seconds=pl.col("_offset_s").fill_null(0))


def _sample_rows(
    frame: pl.DataFrame,
    indicator: pl.Expr,
    value: pl.Expr,
    time: pl.Expr,
    conversions: dict[str, tuple[float, float]],
) -> pl.DataFrame:
    """Long rows from exploded samples: `indicator` names one of `conversions`' ids."""
    ids = list(conversions)
    scale = indicator.replace_strict({i: c[0] for i, c in conversions.items()}, return_dtype=F)
    offset = indicator.replace_strict({i: c[1] for i, c in conversions.items()}, return_dtype=F)
    return (
        frame.select(
            "user_id",
            indicator.alias("indicator"),
            time.dt.cast_time_unit("us").alias("time"),
            _NO_END.alias("end_time"),
            pl.col("tz_offset_s"),
            (value.cast(F) * scale + offset).alias("value"),
            indicator.replace_strict({i: get_indicator(i).unit for i in ids}, return_dtype=S).alias(
                "unit"
            ),
            "source",
            "record_id",
        )
        .filter(pl.col("value").is_not_null() & pl.col("indicator").is_in(ids))
        .select(COLUMNS)
    )


def _heart_rate_rows(frame: pl.DataFrame) -> pl.DataFrame:
    samples = (
        frame.select("user_id", "record_id", "source", "tz_offset_s", "time", "heart_rate_samples")
        .explode("heart_rate_samples")
        .drop_nulls("heart_rate_samples")
        .unnest("heart_rate_samples")
    )
    clock = pl.col("sample_time").str.to_time("%H:%M:%S", strict=False)
    since_midnight = pl.duration(microseconds=clock.cast(pl.Int64) // 1000)
    return _sample_rows(
        samples,
        pl.lit("heart_rate"),
        pl.col("heart_rate"),
        pl.col("time") + since_midnight,
        {"heart_rate": indicator_conversion("heart_rate", "/min")},
    )


CONTINUOUS_HEART_RATE = RecordMapping(
    record_type="continuous-heart-rate",
    paths={
        "date": S,
        "heart_rate_samples": pl.List(pl.Struct({"heart_rate": F, "sample_time": S})),
    },
    prepare=with_offsets(pl.col("date").str.to_date(), "continuous-heart-rate"),
    anchors=OFFSET_ANCHORS,
    time=local_midnight("date"),
    tz_offset_s=pl.col("_offset_s"),
    offset="wall",
    # Its own source: the sleep document's heart_rate_samples repeat some of these instants
    # (same key under "polar"), and a day's mean should come from one series, not both.
    device=pl.lit("continuous"),
    fields=(),
    rows=_heart_rate_rows,
    ignored={
        "polar_user": "user URL, on the connection",
        "date": "local day of the samples",
        "heart_rate_samples": "heart_rate samples (5-min averages, device clock)",
        "heart_rate_samples.heart_rate": "heart_rate",
        "heart_rate_samples.sample_time": "local clock time on `date`",
    },
)

SKIN_TEMPERATURE = RecordMapping(
    record_type="skin-temperature",
    paths={"sleep_date": S},
    prepare=with_offsets(pl.col("sleep_date").str.to_date(), "skin-temperature"),
    anchors=OFFSET_ANCHORS,
    time=pl.coalesce("_sleep_end", local_midnight("sleep_date")),
    tz_offset_s=pl.col("_offset_s"),
    offset="wall",
    fields=(
        Field("sleep_time_skin_temperature_celsius", "skin_temperature", "Cel"),
        Field("deviation_from_baseline_celsius", "skin_temperature_deviation", "Cel"),
    ),
    ignored={"sleep_date": "local wake-up day; dated at that night's Polar sleep end"},
)

# measurement_type -> indicator; TM_UNKNOWN is dropped (neither skin nor core is known)
TEMPERATURE_TYPES = {
    "TM_CORE_TEMPERATURE": "body_temperature",
    "TM_SKIN_TEMPERATURE": "skin_temperature",
}
_PERIOD_START = iso_local_expr("start_time").dt.replace_time_zone("UTC")  # UTC, no offset


def _temperature_rows(frame: pl.DataFrame) -> pl.DataFrame:
    unknown = frame.filter(~pl.col("measurement_type").is_in(list(TEMPERATURE_TYPES))).height
    if unknown:
        log.info("polar body-temperature: %d periods of an unknown measurement type", unknown)
    samples = (
        frame.select(
            "user_id", "record_id", "source", "tz_offset_s", "time", "measurement_type", "samples"
        )
        .explode("samples")
        .drop_nulls("samples")
        .unnest("samples")
    )
    kind = pl.col("measurement_type").replace_strict(
        TEMPERATURE_TYPES, default=None, return_dtype=S
    )
    delta = pl.duration(milliseconds=pl.col("recording_time_delta_milliseconds"))
    return _sample_rows(
        samples,
        kind,
        pl.col("temperature_celsius"),
        pl.col("time") + delta,
        {i: indicator_conversion(i, "Cel") for i in TEMPERATURE_TYPES.values()},
    )


BODY_TEMPERATURE = RecordMapping(
    record_type="body-temperature",
    paths={
        "start_time": S,
        "end_time": S,
        "measurement_type": S,
        "samples": pl.List(
            pl.Struct({"temperature_celsius": F, "recording_time_delta_milliseconds": INT})
        ),
    },
    prepare=with_offsets(iso_local_expr("end_time").dt.date(), "body-temperature"),
    anchors=OFFSET_ANCHORS,
    time=_PERIOD_START,
    end_time=iso_local_expr("end_time").dt.replace_time_zone("UTC"),
    tz_offset_s=pl.col("_offset_s"),
    offset="utc",
    fields=(),
    rows=_temperature_rows,
    ignored={
        "source_device_id": "device id",
        "modified_time": "raw record version",
        "start_time": "sample anchor (UTC)",
        "end_time": "period end (UTC)",
        "measurement_type": "core -> body_temperature, skin -> skin_temperature",
        "sensor_location": "distal/proximal: the indicator does not split by site",
        "samples": "temperature samples",
        "samples.temperature_celsius": "the value",
        "samples.recording_time_delta_milliseconds": "after start_time",
    },
)

_TEST_TIME = epoch_utc_expr("test_time")
_TEST_OFFSET = pl.col("time_zone_offset") * 60
_HRV = "HRV of a 30-60 s test; the spec names no statistic (RMSSD or SDNN)"
SPO2 = RecordMapping(
    record_type="spo2",
    paths={"test_time": INT, "time_zone_offset": INT, "test_status": S},
    time=_TEST_TIME,
    tz_offset_s=_TEST_OFFSET,
    keep=pl.col("test_status") == "SPO2_TEST_PASSED",  # inconclusive tests measure nothing
    fields=(
        Field("blood_oxygen_percent", "spo2", "%"),
        Field("average_heart_rate_bpm", "heart_rate", "/min"),
    ),
    ignored={
        "source_device_id": "device id",
        "test_time": "time",
        "time_zone_offset": "tz_offset_s (minutes)",
        "test_status": "keeps passed tests",
        "spo2_class": "a class",
        "spo2_value_deviation_from_baseline": "a class",
        "spo2_quality_average_percent": "signal quality, not a measurement",
        "heart_rate_variability_ms": _HRV,
        "spo2_hrv_deviation_from_baseline": "a class",
        "altitude_meters": "where the test was taken",
    },
)

ECG = RecordMapping(
    record_type="ecg",
    paths={"test_time": INT, "time_zone_offset": INT},
    time=_TEST_TIME,
    tz_offset_s=_TEST_OFFSET,
    fields=(Field("average_heart_rate_bpm", "heart_rate", "/min"),),
    ignored={
        "source_device_id": "device id",
        "test_time": "time",
        "time_zone_offset": "tz_offset_s (minutes)",
        "heart_rate_variability_ms": _HRV,
        "heart_rate_variability_level": "a class",
        "rri_ms": "mean RR interval: the same beats as the mapped average heart rate",
        "pulse_transit_time_systolic_ms": "no catalogue id",
        "pulse_transit_time_diastolic_ms": "no catalogue id",
        "pulse_transit_time_quality_index": "signal quality",
        "samples": "the ECG waveform (mV): no catalogue id",
        "quality_measurements": "signal quality over the test",
    },
)

BIOSENSING = {
    m.record_type: m for m in (CONTINUOUS_HEART_RATE, SKIN_TEMPERATURE, BODY_TEMPERATURE, SPO2, ECG)
}
