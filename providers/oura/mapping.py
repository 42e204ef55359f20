"""Oura v2 record types to catalogue indicators. Documents carry ISO times with the local
offset; durations are seconds, energy kcal; scores may be null while the day is open."""

from __future__ import annotations

import polars as pl

from indicators.timeutils import iso_offset_expr, iso_utc_expr
from providers.formatting import Field, RecordMapping

S, F = pl.String(), pl.Float64()
_ID = {"id": "vendor id, kept as record_id", "meta.updated_at": "raw record version",
       "meta.version": "raw record version"}
# daily_sleep/daily_readiness timestamps may carry +00:00: only `day` is the local day, so
# those rows are dated at 00:00 of `day` with offset 0 (the local day is what they mean).
_DAY_START = pl.col("day").str.to_date().cast(pl.Datetime("us")).dt.replace_time_zone("UTC")

DAILY_ACTIVITY = RecordMapping(
    record_type="daily_activity",
    paths={"day": S, "timestamp": S},
    time=iso_utc_expr("timestamp"),  # the Oura day starts at 04:00 local
    derived={"end_time": pl.col("time") + pl.duration(days=1)},
    tz_offset_s=iso_offset_expr("timestamp"),
    fields=(
        Field("steps", "steps", "{steps}"),
        Field("active_calories", "active_energy", "kcal"),
        Field("total_calories", "total_energy", "kcal"),
        Field("equivalent_walking_distance", "distance", "m"),
        Field("high_activity_time", "vigorous_activity_duration", "s"),
        Field("medium_activity_time", "moderate_activity_duration", "s"),
        Field("low_activity_time", "light_activity_duration", "s"),
        Field("sedentary_time", "sedentary_duration", "s"),
        Field("score", "activity_score", "{score}"),
    ),
    ignored=_ID | {
        "day": "local day, implied by time + offset", "timestamp": "time",
        "target_calories": "goal, not a measurement", "target_meters": "goal",
        "meters_to_target": "goal", "resting_time": "Oura-specific rest classification",
        "non_wear_time": "wear bookkeeping",
        "high_activity_met_minutes": "MET-minutes: no catalogue indicator",
        "medium_activity_met_minutes": "MET-minutes", "low_activity_met_minutes": "MET-minutes",
        "sedentary_met_minutes": "MET-minutes", "average_met_minutes": "MET-minutes",
        "inactivity_alerts": "a nudge count", "class_5_min": "5-min activity class string",
        "met": "1-min MET series: no catalogue indicator", "contributors": "score components",
    },
)

SLEEP = RecordMapping(
    record_type="sleep",
    paths={"type": S, "bedtime_start": S, "bedtime_end": S},
    time=iso_utc_expr("bedtime_start"),
    end_time=iso_utc_expr("bedtime_end"),
    tz_offset_s=iso_offset_expr("bedtime_start"),
    keep=pl.col("type") != "deleted",
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
    ),
    ignored=_ID | {
        "day": "local day", "type": "filters deleted periods", "period": "index in the day",
        "bedtime_start": "time", "bedtime_end": "end_time",
        "heart_rate": "5-min series; the heartrate collection carries the same samples",
        "hrv": "5-min RMSSD series; the night's average is mapped",
        "movement_30_sec": "movement class string", "sleep_phase_5_min": "hypnogram string",
        "sleep_phase_30_sec": "hypnogram string", "app_sleep_phase_5_min": "hypnogram string",
        "readiness": "duplicated by the daily_readiness document",
        "readiness_score_delta": "score bookkeeping", "sleep_score_delta": "score bookkeeping",
        "restless_periods": "Oura-specific count, not disturbances",
        "low_battery_alert": "device state", "sleep_algorithm_version": "algorithm label",
        "sleep_analysis_reason": "algorithm label", "ring_id": "device id",
    },
)

DAILY_SLEEP = RecordMapping(
    record_type="daily_sleep",
    paths={"day": S},
    time=_DAY_START,
    tz_offset_s=pl.lit(0),
    keep=pl.col("score").is_not_null(),
    fields=(Field("score", "sleep_score", "{score}"),),
    ignored=_ID | {"day": "time", "timestamp": "may be +00:00; day is used",
                   "contributors": "score components"},
)

DAILY_READINESS = RecordMapping(
    record_type="daily_readiness",
    paths={"day": S},
    time=_DAY_START,
    tz_offset_s=pl.lit(0),
    keep=pl.col("score").is_not_null() | pl.col("temperature_deviation").is_not_null(),
    fields=(
        Field("score", "readiness_score", "{score}"),
        Field("temperature_deviation", "skin_temperature_deviation", "Cel"),
    ),
    ignored=_ID | {"day": "time", "timestamp": "may be +00:00; day is used",
                   "temperature_trend_deviation": "a trend of deviations, no catalogue id",
                   "contributors": "score components"},
)

DAILY_SPO2 = RecordMapping(
    record_type="daily_spo2",
    paths={"day": S},
    time=_DAY_START,
    tz_offset_s=pl.lit(0),
    keep=pl.col("spo2_percentage.average").is_not_null()
    | pl.col("breathing_disturbance_index").is_not_null(),  # null when the ring was off
    fields=(
        Field("spo2_percentage.average", "spo2_sleep_average", "%"),
        Field("breathing_disturbance_index", "breathing_disturbance_index", "/h"),
    ),
    ignored=_ID | {"day": "time"},
)

HEARTRATE = RecordMapping(
    record_type="heartrate",
    paths={"timestamp": S},
    time=iso_utc_expr("timestamp"),
    tz_offset_s=iso_offset_expr("timestamp"),  # rows are UTC: the local offset is unknown
    fields=(Field("bpm", "heart_rate", "/min"),),
    ignored={"timestamp": "time", "source": "context label (awake, rest, sleep, workout)",
             "timestamp_unix": "same instant as timestamp"},
)

WORKOUT = RecordMapping(
    record_type="workout",
    paths={"start_datetime": S, "end_datetime": S},
    time=iso_utc_expr("start_datetime"),
    end_time=iso_utc_expr("end_datetime"),
    tz_offset_s=iso_offset_expr("start_datetime"),
    derived={"duration_s": (pl.col("end_time") - pl.col("time")).dt.total_seconds()},
    fields=(
        Field("duration_s", "workout_duration", "s"),
        Field("calories", "workout_energy", "kcal"),
        Field("distance", "workout_distance", "m"),
    ),
    ignored=_ID | {"day": "local day", "start_datetime": "time", "end_datetime": "end_time",
                   "activity": "a label", "intensity": "a label", "label": "user label",
                   "source": "how the workout was detected"},
)

MAPPINGS = {m.record_type: m for m in (DAILY_ACTIVITY, SLEEP, DAILY_SLEEP, DAILY_READINESS,
                                       DAILY_SPO2, HEARTRATE, WORKOUT)}
