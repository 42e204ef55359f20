"""Withings sleep summaries (`getsummary`) to catalogue indicators: one per night or nap, with
epoch-second bounds and the IANA `timezone` of the device.

A night recorded by another source (a phone, a watch of another brand) comes without stages:
`asleepduration` instead of `total_sleep_time`. There is no nap flag: the main sleep of a
wake-up day is its longest summary, and it alone gives bedtime and wake time."""

from __future__ import annotations

import polars as pl

from indicators.catalogue import get_indicator
from indicators.timeutils import epoch_utc_expr
from indicators.units import indicator_conversion
from providers.formatting import COLUMNS, Field, RecordMapping
from providers.sleep_times import SLEEP_CLOCK_FIELDS, sleep_clock
from providers.withings.intraday import offset_in_zone

S, INT, F = pl.String(), pl.Int64(), pl.Float64()
_START, _END = epoch_utc_expr("startdate"), epoch_utc_expr("enddate")
# The start and end RMSSD averages are two readings of the night; the intraday rmssd samples
# (source withings) may share an instant with them, so they are kept on a source of their own.
HRV_SOURCE = "withings.sleep"


def _night_offsets(flat: pl.LazyFrame, raw: pl.DataFrame) -> pl.LazyFrame:
    """The offsets of the night's start and end in its zone (they differ across a DST
    change)."""
    zones = [z for z in flat.select(pl.col("timezone").unique()).collect().to_series() if z]
    return flat.with_columns(
        offset_in_zone(_START, zones).alias("_tz_offset_s"),
        offset_in_zone(_END, zones).alias("_end_offset_s"),
    )


def _hrv_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """`rmssd_start_avg` as an hrv_rmssd reading at the night's start, `rmssd_end_avg` at its
    end (each with its own offset)."""
    scale, offset = indicator_conversion("hrv_rmssd", "ms")
    parts = [
        frame.select(
            "user_id",
            pl.lit("hrv_rmssd").alias("indicator"),
            pl.col(at).alias("time"),
            pl.lit(None, pl.Datetime("us", "UTC")).alias("end_time"),
            pl.col(off).cast(pl.Int32).alias("tz_offset_s"),
            (pl.col(path) * scale + offset).alias("value"),
            pl.lit(get_indicator("hrv_rmssd").unit).alias("unit"),
            pl.lit(HRV_SOURCE).alias("source"),
            "record_id",
        )
        for path, at, off in (
            ("data.rmssd_start_avg", "time", "tz_offset_s"),
            ("data.rmssd_end_avg", "end_time", "_end_offset_s"),
        )
    ]
    return pl.concat(parts).filter(pl.col("value").is_not_null()).select(COLUMNS)


_IN_BED = pl.col("end_time") - pl.col("time")
_WAKE_DAY = (
    pl.col("end_time").dt.replace_time_zone(None) + pl.duration(seconds=pl.col("tz_offset_s"))
).dt.date()
MAIN_SLEEP = _IN_BED.eq(_IN_BED.max().over("user_id", _WAKE_DAY))

SLEEP = RecordMapping(
    record_type="sleep",
    paths={
        "startdate": INT,
        "enddate": INT,
        "timezone": S,
        "data.total_sleep_time": F,
        "data.asleepduration": F,
        "data.sleep_latency": F,
        "data.durationtosleep": F,
        "data.rmssd_start_avg": F,
        "data.rmssd_end_avg": F,
    },
    prepare=_night_offsets,
    time=_START,
    end_time=_END,
    tz_offset_s=pl.col("_tz_offset_s"),
    derived={
        "asleep_s": pl.coalesce("data.total_sleep_time", "data.asleepduration"),
        "latency_s": pl.coalesce("data.sleep_latency", "data.durationtosleep"),
        **sleep_clock(
            ("data.total_timeinbed", "asleep_s", "data.wakeupduration"),
            main=MAIN_SLEEP,
            end_offset_s=pl.col("_end_offset_s"),
        ),
    },
    fields=(
        Field("data.total_timeinbed", "sleep_duration_in_bed", "s"),
        # light + deep + REM; asleepduration for a night from an external source
        Field("asleep_s", "sleep_duration_asleep", "s"),
        Field("data.lightsleepduration", "sleep_duration_light", "s"),
        Field("data.deepsleepduration", "sleep_duration_deep", "s"),
        Field("data.remsleepduration", "sleep_duration_rem", "s"),
        Field("data.wakeupduration", "sleep_duration_awake", "s"),
        Field("latency_s", "sleep_latency", "s"),  # durationtosleep: its deprecated name
        Field("data.sleep_efficiency", "sleep_efficiency", "ratio"),
        Field("data.sleep_score", "sleep_score", "{score}"),
        Field("data.hr_average", "sleep_average_heart_rate", "/min"),
        Field("data.hr_min", "sleep_lowest_heart_rate", "/min"),
        Field("data.rr_average", "sleep_respiratory_rate", "/min"),
        Field("data.wakeupcount", "sleep_disturbances", "{count}"),
        Field("data.nb_rem_episodes", "sleep_cycles", "{count}"),  # a cycle ends in REM
        Field("data.apnea_hypopnea_index", "breathing_disturbance_index", "/h", at="end"),
        *SLEEP_CLOCK_FIELDS,
    ),
    rows=_hrv_rows,  # rmssd_start_avg / rmssd_end_avg: hrv_rmssd readings, withings.sleep
    ignored={
        "id": "kept as record_id",
        "timezone": "tz_offset_s",
        "model": "device kind",
        "model_id": "device label",
        "startdate": "time",
        "enddate": "end_time",
        "date": "local day",
        "created": "bookkeeping",
        "modified": "raw record version",
        "hash_deviceid": "device id",
        "completed": "night closed flag",
        "data.wakeup_latency": "no catalogue id",
        "data.durationtowakeup": "no catalogue id",
        "data.waso": "wake after onset: inside wakeupduration",
        "data.out_of_bed_count": "no catalogue id",
        "data.hr_max": "no sleep maximum id",
        "data.rr_min": "no catalogue id",
        "data.rr_max": "no catalogue id",
        "data.breathing_disturbances_intensity": "an intensity, not events per hour",
        "data.breathing_quality_assessment": "an intensity, not events per hour",
        "data.withings_index": "Sleep Rx estimate of breathing-sound gaps per hour; the "
        "medical-grade apnea_hypopnea_index is the one mapped",
        "data.snoring": "no catalogue id",
        "data.snoringepisodecount": "no catalogue id",
        "data.breathing_sounds": "no catalogue id",
        "data.breathing_sounds_episode_count": "no catalogue id",
        "data.mvt_score_avg": "movement score: no catalogue id",
        "data.mvt_active_duration": "time moving in bed: no catalogue id",
        "data.chest_movement_rate_average": "chest movements per minute: no catalogue id",
        "data.chest_movement_rate_min": "no catalogue id",
        "data.chest_movement_rate_max": "no catalogue id",
        "data.chest_movement_rate_wellness_average": "the respiration average again, from "
        "chest movements; rr_average is mapped",
        "data.chest_movement_rate_wellness_min": "no catalogue id",
        "data.chest_movement_rate_wellness_max": "no catalogue id",
        "data.core_body_temperature_min": "no catalogue id",
        "data.core_body_temperature_max": "no catalogue id",
        "data.core_body_temperature_avg": "no catalogue id",
        "data.core_body_temperature_status": "a label",
        "data.night_events": "event list",
        "data.sleep_score_version": "label",
    },
)
