"""Polar AccessLink records to catalogue indicators. Exercises: local start time without an
offset plus `start_time_utc_offset` in minutes, ISO-8601 durations. Sleep: ISO times with the
offset and "HH:mm"-keyed samples. Daily activity and Nightly Recharge carry local dates only."""

from __future__ import annotations

import polars as pl

from indicators.timeutils import (
    iso_duration_seconds_expr,
    iso_local_expr,
    iso_offset_expr,
    iso_utc_expr,
    local_to_utc_expr,
)
from providers.formatting import Field, RecordMapping
from providers.polar.biosensing import OFFSET_ANCHORS, local_midnight, with_offsets
from providers.series import KeyKind, Series
from providers.sleep_times import SLEEP_CLOCK_FIELDS, sleep_clock

S, INT, F = pl.String(), pl.Int64(), pl.Float64()
_USER = {
    "polar_user": "user URL, on the connection",
    "device_id": "device id",
    "device": "device label",
}
# Local-date documents: dated 00:00 of the local date with offset 0, since Polar gives no
# offset for them; the local day is what they mean.
_LOCAL_DATE = pl.col("date").str.to_date().cast(pl.Datetime("us")).dt.replace_time_zone("UTC")

_EX_OFFSET_S = pl.col("start_time_utc_offset") * 60
_EX_START = local_to_utc_expr(iso_local_expr("start_time"), _EX_OFFSET_S)
EXERCISES = RecordMapping(
    record_type="exercises",
    paths={"start_time": S, "start_time_utc_offset": INT, "duration": S},
    time=_EX_START,
    tz_offset_s=_EX_OFFSET_S,
    derived={
        "duration_s": iso_duration_seconds_expr("duration"),
        "end_time": pl.col("time") + pl.duration(seconds=pl.col("duration_s")),
    },
    fields=(
        Field("duration_s", "workout_duration", "s"),
        Field("calories", "workout_energy", "kcal"),
        Field("distance", "workout_distance", "m"),
        Field("heart_rate.average", "workout_average_heart_rate", "/min"),
        Field("heart_rate.maximum", "workout_max_heart_rate", "/min"),
        Field("training_load", "training_load", "{score}"),
    ),
    ignored=_USER
    | {
        "id": "kept as record_id",
        "upload_time": "raw record version",
        "start_time": "time",
        "start_time_utc_offset": "tz_offset_s",
        "duration": "mapped via duration_s",
        "sport": "a label",
        "detailed_sport_info": "a label",
        "has_route": "flag",
        "fat_percentage": "energy split: no catalogue id",
        "carbohydrate_percentage": "energy split",
        "protein_percentage": "energy split",
        "running-index": "Polar-specific fitness index",
        "heart_rate_zones": "zone limits vary",
        "samples": "CSV sample streams: not mapped yet",
        "route": "location is not stored",
        "training_load_pro": "Polar-specific load model",
    },
)

ACTIVITIES = RecordMapping(
    record_type="activities",
    paths={"start_time": S},
    time=iso_local_expr("start_time").dt.replace_time_zone("UTC"),
    derived={"end_time": pl.col("time") + pl.duration(days=1)},
    tz_offset_s=pl.lit(0),
    offset="day",
    fields=(
        Field("steps", "steps", "{steps}"),
        Field("calories", "total_energy", "kcal"),
        Field("active_calories", "active_energy", "kcal"),
        Field("distance_from_steps", "distance", "m"),
    ),
    ignored={
        "start_time": "local day start (no offset given)",
        "end_time": "local day end",
        "active_duration": "Polar's activity classes do not split into light/moderate/vigorous",
        "inactive_duration": "includes sleep, unlike sedentary time elsewhere",
        "daily_activity": "percent of a goal",
        "inactivity_alert_count": "a nudge count",
        "samples": "per-minute steps of the same day (its `steps` total is mapped; both under "
        "one source would add up in the daily sum) and Polar's own zone classes",
    },
)

SLEEP = RecordMapping(
    record_type="sleep",
    paths={"sleep_start_time": S, "sleep_end_time": S, "unrecognized_sleep_stage": F},
    time=iso_utc_expr("sleep_start_time"),
    end_time=iso_utc_expr("sleep_end_time"),
    tz_offset_s=iso_offset_expr("sleep_start_time"),
    derived={
        "asleep_s": pl.col("light_sleep")
        + pl.col("deep_sleep")
        + pl.col("rem_sleep")
        + pl.col("unrecognized_sleep_stage").fill_null(0),
        # sleep_end_time carries its own offset: a night across a DST change wakes on it
        **sleep_clock(
            ("asleep_s", "total_interruption_duration"),
            end_offset_s=iso_offset_expr("sleep_end_time"),
        ),
    },
    fields=(
        Field("light_sleep", "sleep_duration_light", "s"),
        Field("deep_sleep", "sleep_duration_deep", "s"),
        Field("rem_sleep", "sleep_duration_rem", "s"),
        Field("asleep_s", "sleep_duration_asleep", "s"),  # light + deep + REM + unrecognised
        # Polar's sleep starts when asleep: its awake time is the interruptions after that
        # (no latency in bed before, which other vendors count awake)
        Field("total_interruption_duration", "sleep_duration_awake", "s"),
        Field("sleep_score", "sleep_score", "{score}"),
        Field("sleep_cycles", "sleep_cycles", "{count}"),
        *SLEEP_CLOCK_FIELDS,  # sleep_start is falling asleep, not going to bed
    ),
    series=(Series("heart_rate_samples", "heart_rate", "/min", KeyKind.LOCAL_CLOCK),),
    ignored=_USER
    | {
        "date": "local day",
        "sleep_start_time": "time (falling asleep)",
        "sleep_end_time": "end_time",
        "short_interruption_duration": "part of total_interruption_duration (mapped)",
        "long_interruption_duration": "part of total_interruption_duration (mapped)",
        "continuity": "Polar-specific index",
        "continuity_class": "Polar-specific class",
        "sleep_charge": "Polar-specific class",
        "sleep_goal": "goal",
        "sleep_rating": "user rating, 0 = not given",
        "group_duration_score": "sub-score",
        "group_solidity_score": "sub-score",
        "group_regeneration_score": "sub-score",
        "hypnogram": "stage changes: no catalogue indicator",
        "unrecognized_sleep_stage": "counted in sleep_duration_asleep",
    },
)

# Nightly Recharge names only its local date: it is dated by that date's Polar sleep (in the
# batch, else stored; its offset too). Its averages are the night's, at its end; its 5-minute
# "HH:mm" samples roll past midnight from the sleep's start. Without the sleep, the night is
# taken to end at local midnight of the date and its clock keys to start at noon before.
NIGHTLY_RECHARGE = RecordMapping(
    record_type="nightly-recharge",
    paths={"date": S},
    prepare=with_offsets(pl.col("date").str.to_date(), "nightly-recharge"),
    anchors=OFFSET_ANCHORS,
    time=pl.coalesce("_sleep_start", local_midnight("date") - pl.duration(hours=12)),
    end_time=pl.coalesce("_sleep_end", local_midnight("date")),
    time_field="date",
    tz_offset_s=pl.col("_offset_s"),
    offset="wall",
    fields=(
        Field("heart_rate_variability_avg", "sleep_average_hrv_rmssd", "ms", at="end"),
        Field("breathing_rate_avg", "sleep_respiratory_rate", "/min", at="end"),
        Field("ans_charge", "nightly_recharge_ans_charge", "{score}", at="end"),
    ),
    series=(
        Series("hrv_samples", "hrv_rmssd", "ms", KeyKind.LOCAL_CLOCK),
        Series("breathing_samples", "respiratory_rate", "/min", KeyKind.LOCAL_CLOCK),
    ),
    ignored={
        "polar_user": "user URL",
        "date": "the sleep it belongs to (wake-up date)",
        "heart_rate_avg": "a 4-hour window, not the night's average heart rate",
        "beat_to_beat_avg": "RR interval: no catalogue id",
        "nightly_recharge_status": "Polar-specific class",
        "ans_charge_status": "class",
    },
)

# The spec names these in snake_case, the vendor notes hyphenated: read both.
PHYSICAL_INFO = RecordMapping(
    record_type="physical-info",
    paths={
        "modified": S,
        "created": S,
        "maximum_heart_rate": F,
        "maximum-heart-rate": F,
        "vo2_max": F,
        "vo2-max": F,
    },
    time=iso_utc_expr(pl.coalesce("modified", "created")),
    tz_offset_s=pl.lit(None, pl.Int32),  # UTC: the person's zone gives the local day
    offset="utc",
    keep=pl.coalesce("modified", "created").is_not_null(),
    derived={
        "max_hr": pl.coalesce("maximum_heart_rate", "maximum-heart-rate"),
        "vo2": pl.coalesce("vo2_max", "vo2-max"),
    },
    fields=(
        Field("weight", "weight", "kg"),
        Field("height", "height", "cm"),
        Field("max_hr", "user_max_heart_rate", "/min"),
        Field("vo2", "vo2max", "mL/(kg.min)"),
    ),
    ignored={
        "created": "time when never modified",
        "modified": "time",
        "birthday": "personal data, not an indicator",
        "gender": "personal data",
        "resting_heart_rate": "a user setting, not a measurement",
        "resting-heart-rate": "a user setting",
        "aerobic_threshold": "training setting",
        "aerobic-threshold": "training setting",
        "anaerobic_threshold": "training setting",
        "anaerobic-threshold": "training setting",
        "weight_source": "provenance label",
        "weight-source": "provenance label",
        "training_background": "profile label",
        "typical_day": "profile label",
        "sleep_goal": "goal",
    },
)

MAPPINGS = {
    m.record_type: m for m in (EXERCISES, ACTIVITIES, SLEEP, NIGHTLY_RECHARGE, PHYSICAL_INFO)
}
