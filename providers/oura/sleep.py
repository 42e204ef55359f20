"""Oura sleep periods to catalogue indicators: several per day, of a `type`.

`long_sleep` is the main sleep (over 3 h): it alone gives bedtime, wake time and the day's
resting heart rate. `sleep` and `late_nap` are sleeps the user confirmed (naps; Oura counts
them in its daily scores, and so are their durations here). `rest` is a detected sleep the
user rejected and `deleted` one the user removed: neither is sleep, and both give no rows."""

from __future__ import annotations

import polars as pl

from indicators.timeutils import iso_offset_expr, iso_utc_expr
from providers.formatting import Field, RecordMapping
from providers.oura.samples import sample_paths, sample_rows
from providers.sleep_times import SLEEP_CLOCK_FIELDS, sleep_clock

S = pl.String()
NOT_SLEEP = ("deleted", "rest")
MAIN_SLEEP = "long_sleep"
# The night's 5-minute heart rate repeats what the heartrate collection sends (as rows of
# source "sleep", often at the same instants): a source of its own keeps each instant one key
# and the day's mean from one series (the collection's, which has more rows, when both came).
HEART_RATE_SOURCE = "oura.sleep"
_MAIN = pl.col("type") == MAIN_SLEEP
_heart_rate = sample_rows("heart_rate", "heart_rate", "/min", source=HEART_RATE_SOURCE)
_hrv = sample_rows("hrv", "hrv_rmssd", "ms")


def _sample_rows(frame: pl.DataFrame) -> pl.DataFrame:
    return pl.concat([_heart_rate(frame), _hrv(frame)])


SLEEP = RecordMapping(
    record_type="sleep",
    paths={
        "type": S,
        "bedtime_start": S,
        "bedtime_end": S,
        "lowest_heart_rate": pl.Float64(),
        **sample_paths("heart_rate", "hrv"),
    },
    time=iso_utc_expr("bedtime_start"),
    end_time=iso_utc_expr("bedtime_end"),
    tz_offset_s=iso_offset_expr("bedtime_start"),
    keep=~pl.col("type").is_in(NOT_SLEEP),
    derived={
        # bedtime_end carries its own offset: a night across a DST change wakes on it
        **sleep_clock(
            ("time_in_bed", "total_sleep_duration"),
            main=_MAIN,
            end_offset_s=iso_offset_expr("bedtime_end"),
        ),
        "resting_hr": pl.when(_MAIN).then(pl.col("lowest_heart_rate")),
    },
    fields=(
        Field("time_in_bed", "sleep_duration_in_bed", "s"),
        Field("total_sleep_duration", "sleep_duration_asleep", "s"),
        Field("awake_time", "sleep_duration_awake", "s"),
        Field("light_sleep_duration", "sleep_duration_light", "s"),
        Field("deep_sleep_duration", "sleep_duration_deep", "s"),
        Field("rem_sleep_duration", "sleep_duration_rem", "s"),
        Field("latency", "sleep_latency", "s"),
        Field("efficiency", "sleep_efficiency", "%"),
        Field("average_breath", "sleep_respiratory_rate", "/min"),
        Field("average_heart_rate", "sleep_average_heart_rate", "/min"),
        Field("lowest_heart_rate", "sleep_lowest_heart_rate", "/min"),
        Field("average_hrv", "sleep_average_hrv_rmssd", "ms"),
        *SLEEP_CLOCK_FIELDS,
        # Oura gives no resting heart rate: the main sleep's lowest is it, dated at wake-up
        # (a daily value counts for the day it is dated on); never a nap's.
        Field("resting_hr", "resting_heart_rate", "/min", at="end"),
    ),
    rows=_sample_rows,  # heart_rate (source oura.sleep) and hrv items, every `interval` s
    ignored={
        "id": "vendor id, kept as record_id",
        "meta.updated_at": "raw record version",
        "meta.version": "raw record version",
        "day": "local day",
        "type": "drops rest and deleted periods; long_sleep is the main sleep",
        "period": "index in the day",
        "bedtime_start": "time",
        "bedtime_end": "end_time",
        "movement_30_sec": "movement class string",
        "sleep_phase_5_min": "hypnogram string",
        "sleep_phase_30_sec": "hypnogram string",
        "app_sleep_phase_5_min": "hypnogram string",
        "readiness": "the same score and temperature deviation as the day's daily_readiness "
        "document, which is mapped (readiness_score, skin_temperature_deviation)",
        "readiness_score_delta": "score bookkeeping",
        "sleep_score_delta": "score bookkeeping",
        "restless_periods": "Oura-specific count, not disturbances",
        "low_battery_alert": "device state",
        "sleep_algorithm_version": "algorithm label",
        "sleep_analysis_reason": "algorithm label",
        "ring_id": "device id",
    },
)
