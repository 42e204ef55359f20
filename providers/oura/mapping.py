"""Oura v2 record types to catalogue indicators. Documents carry ISO times with the local
offset; durations are seconds, energy kcal; scores may be null while the day is open. Sleep
periods are in `providers.oura.sleep`."""

from __future__ import annotations

import polars as pl

from indicators.timeutils import epoch_utc_expr, iso_offset_expr, iso_utc_expr
from providers.formatting import Field, RecordMapping
from providers.oura.samples import sample_paths, sample_rows
from providers.oura.sleep import SLEEP

S, F = pl.String(), pl.Float64()
_ID = {
    "id": "vendor id, kept as record_id",
    "meta.updated_at": "raw record version",
    "meta.version": "raw record version",
}
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
    ignored=_ID
    | {
        "day": "local day, implied by time + offset",
        "timestamp": "time",
        "target_calories": "goal, not a measurement",
        "target_meters": "goal",
        "meters_to_target": "goal",
        "resting_time": "Oura-specific rest classification",
        "non_wear_time": "wear bookkeeping",
        "high_activity_met_minutes": "MET-minutes: no catalogue indicator",
        "medium_activity_met_minutes": "MET-minutes",
        "low_activity_met_minutes": "MET-minutes",
        "sedentary_met_minutes": "MET-minutes",
        "average_met_minutes": "MET-minutes",
        "inactivity_alerts": "a nudge count",
        "class_5_min": "5-min activity class string",
        "met": "1-min MET series: no catalogue indicator",
        "contributors": "score components",
    },
)

DAILY_SLEEP = RecordMapping(
    record_type="daily_sleep",
    paths={"day": S},
    time=_DAY_START,
    tz_offset_s=pl.lit(0),
    offset="day",
    keep=pl.col("score").is_not_null(),
    fields=(Field("score", "sleep_score", "{score}"),),
    ignored=_ID
    | {
        "day": "time",
        "timestamp": "may be +00:00; day is used",
        "contributors": "score components",
    },
)

DAILY_READINESS = RecordMapping(
    record_type="daily_readiness",
    paths={"day": S},
    time=_DAY_START,
    tz_offset_s=pl.lit(0),
    offset="day",
    keep=pl.col("score").is_not_null() | pl.col("temperature_deviation").is_not_null(),
    fields=(
        Field("score", "readiness_score", "{score}"),
        Field("temperature_deviation", "skin_temperature_deviation", "Cel"),
    ),
    ignored=_ID
    | {
        "day": "time",
        "timestamp": "may be +00:00; day is used",
        "temperature_trend_deviation": "a trend of deviations, no catalogue id",
        "contributors": "score components",
    },
)

DAILY_SPO2 = RecordMapping(
    record_type="daily_spo2",
    paths={"day": S},
    time=_DAY_START,
    tz_offset_s=pl.lit(0),
    offset="day",
    keep=pl.col("spo2_percentage.average").is_not_null()
    | pl.col("breathing_disturbance_index").is_not_null(),  # null when the ring was off
    fields=(
        Field("spo2_percentage.average", "spo2_sleep_average", "%"),
        Field("breathing_disturbance_index", "breathing_disturbance_index", "/h"),
    ),
    ignored=_ID | {"day": "time"},
)


def _heartrate_samples(flat: pl.LazyFrame, raw: pl.DataFrame) -> pl.LazyFrame:
    """One row per sample of a day document. A record stored before samples were grouped by
    day (one sample, top-level `bpm`/`timestamp`, no `data`) reads as a day of one sample.

    `_time`/`_offset`: the rows' timestamps are UTC ("+00:00": `_offset` null, the person's
    zone gives it); when every row also carries
    the 2026 spec's `timestamp_unix` (epoch ms, the same instant), that is read instead of
    parsing ~300 date-time strings per user-day. Otherwise the strings are parsed."""
    single = pl.concat_list(pl.struct("bpm", "timestamp", "timestamp_unix"))
    rows = (
        flat.with_columns(
            pl.when(pl.col("data").is_null()).then(single).otherwise(pl.col("data")).alias("data")
        )
        .explode("data")  # an empty day explodes to a null row: it fails as timeless
        .with_columns(
            pl.col("data").struct.field("bpm"),
            pl.col("data").struct.field("timestamp"),
            pl.col("data").struct.field("timestamp_unix"),
        )
        .drop("data")
        .collect()
    )
    stamp = pl.col("timestamp")
    utc_epochs = rows.select(
        (
            pl.col("timestamp_unix").is_not_null()
            & (stamp.str.ends_with("+00:00") | stamp.str.ends_with("Z"))
        ).all()
    ).item()
    if utc_epochs:
        return rows.lazy().with_columns(
            epoch_utc_expr("timestamp_unix", "ms").alias("_time"),
            pl.lit(None, pl.Int32).alias("_offset"),
        )
    # an offset other than +00:00 is the vendor's statement; +00:00 says only "UTC"
    offset = iso_offset_expr(stamp)
    return rows.lazy().with_columns(
        iso_utc_expr(stamp).alias("_time"), pl.when(offset != 0).then(offset).alias("_offset")
    )


# One raw record per UTC day of samples (see OuraProvider.fetch): {"day", "data": [rows]}.
HEARTRATE = RecordMapping(
    record_type="heartrate",
    paths={
        "day": S,
        "data": pl.List(pl.Struct({"bpm": F, "timestamp": S, "timestamp_unix": pl.Int64()})),
        "bpm": F,
        "timestamp": S,
        "timestamp_unix": pl.Int64(),
    },
    prepare=_heartrate_samples,
    time=pl.col("_time"),
    time_field="data[].timestamp",
    # rows are UTC: the person's zone gives the local offset (indicators.zones)
    tz_offset_s=pl.col("_offset"),
    offset="utc",
    fields=(Field("bpm", "heart_rate", "/min"),),
    ignored={
        "day": "the UTC day the samples were grouped by",
        "timestamp": "time",
        "data.timestamp": "time",
        "data.source": "context label (awake, rest, sleep...)",
        "data.timestamp_unix": "time, when every row has it",
        "source": "context label (records stored one sample each)",
        "timestamp_unix": "time, when every row has it",
    },
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
    ignored=_ID
    | {
        "day": "local day",
        "start_datetime": "time",
        "end_datetime": "end_time",
        "activity": "a label",
        "intensity": "a label",
        "label": "user label",
        "source": "how the workout was detected",
    },
)

# Guided or quiet moments count as mindfulness; naps are sleep and body-status checks are a
# minute-long measurement, so those sessions are skipped.
MINDFUL_SESSION_TYPES = ("breathing", "meditation", "relaxation", "rest")


SESSION = RecordMapping(
    record_type="session",
    paths={
        "type": S,
        "start_datetime": S,
        "end_datetime": S,
        **sample_paths("heart_rate_variability"),
    },
    time=iso_utc_expr("start_datetime"),
    end_time=iso_utc_expr("end_datetime"),
    tz_offset_s=iso_offset_expr("start_datetime"),
    keep=pl.col("type").is_in(MINDFUL_SESSION_TYPES),
    derived={"duration_s": (pl.col("end_time") - pl.col("time")).dt.total_seconds()},
    fields=(Field("duration_s", "mindfulness_duration", "s"),),
    rows=sample_rows("heart_rate_variability", "hrv_rmssd", "ms"),
    ignored=_ID
    | {
        "day": "local day",
        "start_datetime": "time",
        "end_datetime": "end_time",
        "type": "selects the mindful moment types (naps, body-status checks skipped)",
        "heart_rate": "5-s series; the heartrate collection carries the same samples (its "
        "rows of source session, mapped to heart_rate): mapping both would "
        "duplicate them",
        "mood": "user-selected label (bad...great), no catalogue indicator",
        "motion_count": "motion-count series, no catalogue indicator",
    },
)

DAILY_STRESS = RecordMapping(
    record_type="daily_stress",
    paths={"day": S},
    time=_DAY_START,
    derived={"end_time": pl.col("time") + pl.duration(days=1)},
    tz_offset_s=pl.lit(0),
    offset="day",
    keep=pl.col("stress_high").is_not_null() | pl.col("recovery_high").is_not_null(),
    fields=(
        Field("stress_high", "stress_duration_high", "s"),
        Field("recovery_high", "recovery_duration_high", "s"),
    ),
    ignored=_ID | {"day": "time", "day_summary": "a label (restored, normal, stressful)"},
)

VO2_MAX = RecordMapping(
    record_type="vO2_max",  # sic: the collection path has a capital O
    paths={"timestamp": S},
    time=iso_utc_expr("timestamp"),
    tz_offset_s=iso_offset_expr("timestamp"),
    fields=(Field("vo2_max", "vo2max", "mL/(kg.min)"),),
    ignored=_ID
    | {
        "day": "local day, implied by time + offset",
        "timestamp": "time (when the estimate was made)",
    },
)

DAILY_CARDIOVASCULAR_AGE = RecordMapping(
    record_type="daily_cardiovascular_age",
    paths={"day": S},
    time=_DAY_START,
    tz_offset_s=pl.lit(0),
    offset="day",
    keep=pl.col("vascular_age").is_not_null(),  # null until enough nights are measured
    fields=(Field("vascular_age", "cardiovascular_age", "a"),),
    ignored=_ID | {"day": "time"},
)

PERSONAL_INFO = RecordMapping(
    record_type="personal_info",
    paths={},
    # The profile carries no time: it is dated by the day it was first pulled.
    time=pl.col("_day").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
    tz_offset_s=pl.lit(0),
    offset="day",
    keep=pl.col("weight").is_not_null() | pl.col("height").is_not_null(),
    fields=(Field("weight", "weight", "kg"), Field("height", "height", "m")),
    ignored={
        "id": "the vendor user id, kept as record_id",
        "age": "personal data; a birthday-derived count, not a measurement",
        "biological_sex": "personal data, not an indicator",
        "email": "personal data: never an indicator value",
    },
)


MAPPINGS = {
    m.record_type: m
    for m in (
        DAILY_ACTIVITY,
        SLEEP,
        DAILY_SLEEP,
        DAILY_READINESS,
        DAILY_SPO2,
        HEARTRATE,
        WORKOUT,
        SESSION,
        DAILY_STRESS,
        VO2_MAX,
        DAILY_CARDIOVASCULAR_AGE,
        PERSONAL_INFO,
    )
}
