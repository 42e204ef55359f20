"""WHOOP v2 record types to catalogue indicators. Durations are ms, energy kJ; times are UTC
ISO strings with a separate `timezone_offset` string; `score` exists only when SCORED."""

from __future__ import annotations

import polars as pl

from indicators.timeutils import iso_utc_expr, offset_seconds_expr
from providers.formatting import Field, RecordMapping
from providers.sleep_times import SLEEP_CLOCK_FIELDS, sleep_clock

S = pl.String()
SCORED = pl.col("score_state") == "SCORED"
_COMMON = {"start": S, "end": S, "timezone_offset": S, "score_state": S}
_COMMON_IGNORED = {
    "id": "vendor id, kept as record_id",
    "user_id": "vendor user id, on the connection",
    "created_at": "bookkeeping",
    "updated_at": "kept as the raw record version",
    "v1_id": "legacy id",
    "score_state": "filters unscored records",
}

CYCLE = RecordMapping(
    record_type="cycle",
    paths=_COMMON,
    time=iso_utc_expr("start"),
    end_time=iso_utc_expr("end"),  # absent while the cycle is in progress
    tz_offset_s=offset_seconds_expr("timezone_offset"),
    keep=SCORED,
    fields=(
        Field("score.strain", "strain", "{score}"),
        Field("score.kilojoule", "total_energy", "kJ"),
        Field("score.average_heart_rate", "average_heart_rate", "/min"),
        Field("score.max_heart_rate", "max_heart_rate", "/min"),
    ),
    ignored=_COMMON_IGNORED
    | {"start": "time", "end": "end_time", "timezone_offset": "tz_offset_s"},
)

SLEEP = RecordMapping(
    record_type="sleep",
    paths=_COMMON | {"nap": pl.Boolean()},
    time=iso_utc_expr("start"),
    end_time=iso_utc_expr("end"),
    tz_offset_s=offset_seconds_expr("timezone_offset"),
    keep=SCORED,
    derived={
        "asleep_milli": pl.col("score.stage_summary.total_light_sleep_time_milli")
        + pl.col("score.stage_summary.total_slow_wave_sleep_time_milli")
        + pl.col("score.stage_summary.total_rem_sleep_time_milli"),
        # WHOOP gives one offset per sleep: the wake time is read on it too
        **sleep_clock(
            ("score.stage_summary.total_in_bed_time_milli", "asleep_milli"),
            main=~pl.col("nap").fill_null(False),
        ),
    },
    fields=(
        Field("score.stage_summary.total_in_bed_time_milli", "sleep_duration_in_bed", "ms"),
        Field("score.stage_summary.total_awake_time_milli", "sleep_duration_awake", "ms"),
        Field("score.stage_summary.total_light_sleep_time_milli", "sleep_duration_light", "ms"),
        Field("score.stage_summary.total_slow_wave_sleep_time_milli", "sleep_duration_deep", "ms"),
        Field("score.stage_summary.total_rem_sleep_time_milli", "sleep_duration_rem", "ms"),
        Field("asleep_milli", "sleep_duration_asleep", "ms"),  # light + slow-wave + REM
        Field("score.stage_summary.sleep_cycle_count", "sleep_cycles", "{count}"),
        Field("score.stage_summary.disturbance_count", "sleep_disturbances", "{count}"),
        Field("score.respiratory_rate", "sleep_respiratory_rate", "/min"),
        Field("score.sleep_performance_percentage", "sleep_performance", "%"),
        Field("score.sleep_consistency_percentage", "sleep_consistency", "%"),
        Field("score.sleep_efficiency_percentage", "sleep_efficiency", "%"),
        *SLEEP_CLOCK_FIELDS,  # bedtime and wake time of the main sleep (nap false)
    ),
    ignored=_COMMON_IGNORED
    | {
        "cycle_id": "link to the cycle",
        "nap": "naps are sessions of their own; only a sleep that is not a nap gives "
        "sleep_start/sleep_end",
        "start": "time",
        "end": "end_time",
        "timezone_offset": "tz_offset_s",
        "score.stage_summary.total_no_data_time_milli": "sensor gap, not a sleep stage",
        "score.sleep_needed.baseline_milli": "coaching target, not a measurement",
        "score.sleep_needed.need_from_sleep_debt_milli": "coaching target",
        "score.sleep_needed.need_from_recent_strain_milli": "coaching target",
        "score.sleep_needed.need_from_recent_nap_milli": "coaching target",
    },
)

WORKOUT = RecordMapping(
    record_type="workout",
    paths=_COMMON,
    time=iso_utc_expr("start"),
    end_time=iso_utc_expr("end"),
    tz_offset_s=offset_seconds_expr("timezone_offset"),
    keep=SCORED,
    derived={"duration_s": (pl.col("end_time") - pl.col("time")).dt.total_seconds()},
    fields=(
        Field("duration_s", "workout_duration", "s"),
        Field("score.strain", "workout_strain", "{score}"),
        Field("score.average_heart_rate", "workout_average_heart_rate", "/min"),
        Field("score.max_heart_rate", "workout_max_heart_rate", "/min"),
        Field("score.kilojoule", "workout_energy", "kJ"),
        Field("score.distance_meter", "workout_distance", "m"),
        Field("score.altitude_gain_meter", "workout_elevation_gain", "m"),
        *(
            Field(f"score.zone_durations.zone_{name}_milli", f"heart_rate_zone_{i}_duration", "ms")
            for i, name in enumerate(("zero", "one", "two", "three", "four", "five"))
        ),
    ),
    ignored=_COMMON_IGNORED
    | {
        "start": "time",
        "end": "end_time",
        "timezone_offset": "tz_offset_s",
        "sport_name": "a label, not a value",
        "sport_id": "deprecated label",
        "score.percent_recorded": "data-quality ratio of the workout",
        "score.altitude_change_meter": "net change; the gain is mapped",
    },
)

# Recovery has no time of its own: it is dated by the sleep it belongs to (joined in `prepare`).
RECOVERY_FIELDS = (
    Field("score.recovery_score", "recovery_score", "{score}"),
    Field("score.resting_heart_rate", "resting_heart_rate", "/min"),
    Field("score.hrv_rmssd_milli", "sleep_average_hrv_rmssd", "ms"),
    Field("score.spo2_percentage", "spo2_sleep_average", "%"),
    Field("score.skin_temp_celsius", "skin_temperature", "Cel"),
)
RECOVERY_IGNORED = _COMMON_IGNORED | {
    "cycle_id": "link to the cycle",
    "sleep_id": "joins the sleep that dates the recovery",
    "score.user_calibrating": "a flag: the first days' scores are provisional",
}

BODY = RecordMapping(
    record_type="body",
    paths={},
    # The body measurement carries no time: it is dated by the day it was pulled.
    time=pl.col("_day").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
    tz_offset_s=pl.lit(0),
    offset="day",
    fields=(
        Field("height_meter", "height", "m"),
        Field("weight_kilogram", "weight", "kg"),
        Field("max_heart_rate", "user_max_heart_rate", "/min"),
    ),
    ignored={},
)
