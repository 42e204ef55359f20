"""Fitbit Web API record types to catalogue indicators.

Sleep logs, weight logs and intraday heart rate carry local times *without* an offset
(`2025-03-10T23:12:30.000`); daily documents carry only a date. The pull adds the user's
profile offset (`offsetFromUTCMillis`, as the profile says at pull time) to each such
document: every local time is read on it. Workouts (the activity log list) carry their own
offset. Durations: sleep minutes, activity `duration` milliseconds; energy kcal; distances
km (no Accept-Language header is sent: metric units)."""

from __future__ import annotations

import polars as pl

from indicators.timeutils import iso_offset_expr, iso_utc_expr
from providers.formatting import Field, RecordMapping
from providers.sleep_times import SLEEP_CLOCK_FIELDS, sleep_clock

S, F, B = pl.String(), pl.Float64(), pl.Boolean()
OFFSET = "offsetFromUTCMillis"
_OFFSET_IGNORED = {OFFSET: "the profile's offset at pull time (added by the pull): tz_offset_s"}


def local_utc(column: str | pl.Expr, fmt: str = "%Y-%m-%dT%H:%M:%S%.f") -> pl.Expr:
    """A local time without offset, read on the document's profile offset, as UTC."""
    expr = pl.col(column) if isinstance(column, str) else column
    naive = expr.str.to_datetime(fmt, strict=False, time_unit="us")
    return (naive - pl.duration(milliseconds=pl.col(OFFSET))).dt.replace_time_zone("UTC")


def day_start(column: str) -> pl.Expr:
    """Local midnight of a `YYYY-MM-DD` date, as UTC."""
    return local_utc(pl.col(column) + "T00:00:00", "%Y-%m-%dT%H:%M:%S")


OFFSET_S = (pl.col(OFFSET) // 1000).cast(pl.Int32)


def _naive(column: str, fmt: str = "%Y-%m-%dT%H:%M:%S%.f") -> pl.Expr:
    """A local time without offset, as if it were UTC (for wall-clock arithmetic)."""
    naive = pl.col(column).str.to_datetime(fmt, strict=False, time_unit="us")
    return naive.dt.replace_time_zone("UTC")


# A sleep log's times carry no offset, and the profile's is today's: a night before a DST
# change (or a trip) is not on it. The wake-up end is read on the profile's offset and the
# start is the end minus `duration` (elapsed ms, exact across a change); the night's own
# offset at bedtime is the start's wall clock minus that instant, to the quarter hour.
_START_OFFSET_S = (
    pl.when(pl.col("duration").is_not_null())
    .then(
        (
            (
                _naive("startTime")
                - (local_utc("endTime") - pl.duration(milliseconds=pl.col("duration")))
            ).dt.total_seconds()
            / 900
        ).round()
        * 900
    )
    .otherwise(pl.col(OFFSET) / 1000)
    .cast(pl.Int32)
)
MAIN = pl.col("isMainSleep").fill_null(False)
_STAGES = "levels.summary"

SLEEP = RecordMapping(
    record_type="sleep",
    paths={
        "startTime": S,
        "endTime": S,
        "isMainSleep": B,
        "dateOfSleep": S,
        OFFSET: F,
        "minutesAsleep": F,
        "timeInBed": F,
        "minutesToFallAsleep": F,
        "efficiency": F,
        **{f"{_STAGES}.{s}.minutes": F for s in ("light", "deep", "rem", "wake")},
        f"{_STAGES}.wake.count": F,
        "duration": F,
    },
    time=_naive("startTime") - pl.duration(seconds=_START_OFFSET_S),
    end_time=local_utc("endTime"),
    tz_offset_s=_START_OFFSET_S,
    derived={
        "_nap": pl.when(~MAIN).then(pl.col("minutesAsleep")),
        # A nap's stages are not the night's: only the main sleep gives them.
        **{
            f"_{name}": pl.when(MAIN).then(pl.col(path))
            for name, path in (
                ("asleep", "minutesAsleep"),
                ("in_bed", "timeInBed"),
                ("light", f"{_STAGES}.light.minutes"),
                ("deep", f"{_STAGES}.deep.minutes"),
                ("rem", f"{_STAGES}.rem.minutes"),
                ("wake", f"{_STAGES}.wake.minutes"),
                ("wakes", f"{_STAGES}.wake.count"),
                ("latency", "minutesToFallAsleep"),
                ("efficiency", "efficiency"),
            )
        },
        # the wake time on the profile's offset, the bedtime on the night's start offset
        **sleep_clock(("_asleep",), main=MAIN, end_offset_s=OFFSET_S),
    },
    fields=(
        Field("_in_bed", "sleep_duration_in_bed", "min"),
        Field("_asleep", "sleep_duration_asleep", "min"),
        Field("_nap", "nap_duration", "min"),
        Field("_light", "sleep_duration_light", "min"),
        Field("_deep", "sleep_duration_deep", "min"),
        Field("_rem", "sleep_duration_rem", "min"),
        Field("_wake", "sleep_duration_awake", "min"),
        Field("_wakes", "sleep_disturbances", "{count}"),
        Field("_latency", "sleep_latency", "min"),
        Field("_efficiency", "sleep_efficiency", "%"),
        *SLEEP_CLOCK_FIELDS,
    ),
    ignored=_OFFSET_IGNORED
    | {
        "logId": "vendor id, kept as record_id",
        "dateOfSleep": "the wake-up day (implied)",
        "startTime": "time",
        "endTime": "end_time",
        "duration": "dates the start from the end (exact across a DST change)",
        "isMainSleep": "the main sleep gives the night's values; others are naps",
        "minutesAsleep": "sleep_duration_asleep (main) or nap_duration (others)",
        "timeInBed": "sleep_duration_in_bed (main sleep)",
        "minutesToFallAsleep": "sleep_latency (main sleep)",
        "efficiency": "main sleep",
        **{
            f"{_STAGES}.{s}.minutes": "the main sleep's stage minutes"
            for s in ("light", "deep", "rem", "wake")
        },
        f"{_STAGES}.wake.count": "sleep_disturbances (main sleep)",
        "minutesAwake": "the wake stage's minutes are mapped (same value for stage logs)",
        "minutesAfterWakeup": "time in bed after waking: part of the wake stage",
        "infoCode": "data-quality code, not a measurement",
        "logType": "how it was logged",
        "type": "stages or classic (a classic log has no stage minutes)",
        "levels.data": "the stage hypnogram: its totals are levels.summary",
        "levels.shortData": "short wakes, counted in levels.summary.wake",
        "levels.summary.deep.count": "stage count",
        "levels.summary.light.count": "stage count",
        "levels.summary.rem.count": "stage count",
        "levels.summary.deep.thirtyDayAvgMinutes": "a 30-day average, not this night",
        "levels.summary.light.thirtyDayAvgMinutes": "a 30-day average",
        "levels.summary.rem.thirtyDayAvgMinutes": "a 30-day average",
        "levels.summary.wake.thirtyDayAvgMinutes": "a 30-day average",
        "levels.summary.asleep": "classic logs: asleep minutes are minutesAsleep",
        "levels.summary.restless": "classic logs: restless minutes, no catalogue id",
        "levels.summary.awake": "classic logs: awake minutes are minutesAwake",
    },
)

_SUMMARY = "summary"
ACTIVITIES = RecordMapping(  # GET /1/user/-/activities/date/{date}.json, one per day
    record_type="activities",
    paths={
        "date": S,
        OFFSET: F,
        f"{_SUMMARY}.distances": pl.List(pl.Struct({"activity": S, "distance": F})),
    },
    time=day_start("date"),
    tz_offset_s=OFFSET_S,
    derived={
        "end_time": pl.col("time") + pl.duration(days=1),
        "_total_km": pl.col(f"{_SUMMARY}.distances")
        .list.eval(
            pl.element()
            .filter(pl.element().struct.field("activity") == "total")
            .struct.field("distance")
        )
        .list.first(),
    },
    fields=(
        Field(f"{_SUMMARY}.steps", "steps", "{steps}"),
        Field("_total_km", "distance", "km"),
        Field(f"{_SUMMARY}.floors", "floors_climbed", "{floors}"),
        Field(f"{_SUMMARY}.caloriesOut", "total_energy", "kcal"),
        Field(f"{_SUMMARY}.activityCalories", "active_energy", "kcal"),
        Field(f"{_SUMMARY}.caloriesBMR", "basal_energy", "kcal"),
        Field(f"{_SUMMARY}.sedentaryMinutes", "sedentary_duration", "min"),
        Field(f"{_SUMMARY}.lightlyActiveMinutes", "light_activity_duration", "min"),
        Field(f"{_SUMMARY}.fairlyActiveMinutes", "moderate_activity_duration", "min"),
        Field(f"{_SUMMARY}.veryActiveMinutes", "vigorous_activity_duration", "min"),
    ),
    ignored=_OFFSET_IGNORED
    | {
        "date": "time (local midnight)",
        f"{_SUMMARY}.distances": "the `total` entry is the day's distance; the others "
        "(tracker, loggedActivities, veryActive...) split it",
        f"{_SUMMARY}.restingHeartRate": "the heart collection carries it (resting_heart_rate)",
        f"{_SUMMARY}.heartRateZones": "zone minutes: no catalogue indicator",
        f"{_SUMMARY}.elevation": "the day's climb in metres: floors are mapped",
        f"{_SUMMARY}.marginalCalories": "a part of activityCalories",
        f"{_SUMMARY}.activeScore": "deprecated (-1)",
        f"{_SUMMARY}.caloriesEstimationMu": "model internals",
        f"{_SUMMARY}.useEstimation": "model internals",
        "goals": "targets, not measurements",
        "activities": "the day's logged activities: the activity list is pulled as workouts",
    },
)


def _daily(record_type: str, fields: tuple[Field, ...], ignored: dict[str, str]) -> RecordMapping:
    """A nightly value dated by its `dateTime` (the wake-up day), at local midnight."""
    return RecordMapping(
        record_type=record_type,
        paths={"dateTime": S, OFFSET: F},
        time=day_start("dateTime"),
        tz_offset_s=OFFSET_S,
        fields=fields,
        ignored=_OFFSET_IGNORED | {"dateTime": "the day (local midnight)"} | ignored,
    )


HEART = _daily(
    "heart",
    (Field("value.restingHeartRate", "resting_heart_rate", "/min"),),
    {
        "value.heartRateZones": "zone minutes and calories: no catalogue indicator",
        "value.customHeartRateZones": "user-defined zones",
    },
)
HRV = _daily(
    "hrv",
    (Field("value.dailyRmssd", "sleep_average_hrv_rmssd", "ms"),),
    {"value.deepRmssd": "RMSSD of deep sleep only: no catalogue indicator"},
)
SPO2 = _daily(
    "spo2",
    (Field("value.avg", "spo2_sleep_average", "%"), Field("value.min", "spo2_lowest", "%")),
    {"value.max": "the night's highest reading: no catalogue indicator"},
)
BREATHING = _daily("br", (Field("value.breathingRate", "sleep_respiratory_rate", "/min"),), {})
SKIN_TEMPERATURE = _daily(
    "temp_skin",
    (Field("value.nightlyRelative", "skin_temperature_deviation", "Cel"),),
    {"logType": "which sensor measured it"},
)


def _intraday(flat: pl.LazyFrame, raw: pl.DataFrame) -> pl.LazyFrame:
    """One row per `dataset` entry: `HH:mm:ss` on the document's date."""
    return (
        flat.explode("dataset")
        .with_columns(
            pl.col("dataset").struct.field("time").alias("_clock"),
            pl.col("dataset").struct.field("value"),
        )
        .drop("dataset")
        .with_columns(
            local_utc(pl.col("date") + "T" + pl.col("_clock"), "%Y-%m-%dT%H:%M:%S").alias("_time")
        )
    )


HEART_INTRADAY = RecordMapping(  # .../activities/heart/date/{date}/1d/1min.json, one per day
    record_type="heart_intraday",
    paths={"date": S, OFFSET: F, "dataset": pl.List(pl.Struct({"time": S, "value": F}))},
    prepare=_intraday,
    time=pl.col("_time"),
    time_field="dataset[].time",
    tz_offset_s=OFFSET_S,
    fields=(Field("value", "heart_rate", "/min"),),
    ignored=_OFFSET_IGNORED
    | {
        "date": "the day of the clock times",
        "dataset.time": "time (local clock)",
        "datasetInterval": "1 (minute)",
        "datasetType": "minute",
    },
)

WEIGHT = RecordMapping(  # body/log/weight: one log per weighing
    record_type="weight",
    paths={"date": S, "time": S, OFFSET: F},
    time=local_utc(pl.col("date") + "T" + pl.col("time"), "%Y-%m-%dT%H:%M:%S"),
    tz_offset_s=OFFSET_S,
    fields=(
        Field("weight", "weight", "kg"),
        Field("bmi", "bmi", "kg/m2"),
        Field("fat", "body_fat_percentage", "%"),
    ),
    ignored=_OFFSET_IGNORED
    | {
        "logId": "vendor id, kept as record_id",
        "date": "time",
        "time": "time",
        "source": "Aria, API or manual entry",
    },
)

_DISTANCE_M = {"Kilometer": 1000.0, "Mile": 1609.344, "Meter": 1.0}
WORKOUT = RecordMapping(  # activities/list.json: logged and auto-detected exercises
    record_type="workout",
    paths={"startTime": S, "distanceUnit": S, "duration": F, "distance": F},
    time=iso_utc_expr("startTime"),
    tz_offset_s=iso_offset_expr("startTime"),
    derived={
        "end_time": pl.col("time") + pl.duration(milliseconds=pl.col("duration")),
        "_distance_m": pl.col("distance")
        * pl.col("distanceUnit").replace_strict(_DISTANCE_M, default=None, return_dtype=pl.Float64),
    },
    fields=(
        Field("duration", "workout_duration", "ms"),
        Field("calories", "workout_energy", "kcal"),
        Field("_distance_m", "workout_distance", "m"),
        Field("averageHeartRate", "workout_average_heart_rate", "/min"),
        Field("elevationGain", "workout_elevation_gain", "m"),
    ),
    ignored={
        "logId": "vendor id, kept as record_id",
        "lastModified": "raw record version",
        "startTime": "time (with its offset)",
        "originalStartTime": "before user edits",
        "originalDuration": "before user edits",
        "activeDuration": "duration minus pauses",
        "distance": "workout_distance (by distanceUnit)",
        "distanceUnit": "distance's unit",
        "activityName": "a label",
        "activityTypeId": "a label",
        "logType": "how it was logged",
        "steps": "the day's summary counts them",
        "hasActiveZoneMinutes": "a flag",
        "activeZoneMinutes": "zone minutes: no catalogue indicator",
        "heartRateZones": "zone minutes",
        "activityLevel": "minutes per intensity level",
        "heartRateLink": "a URL",
        "caloriesLink": "a URL",
        "tcxLink": "a URL",
        "source": "the device or app that logged it",
        "speed": "derived from distance",
        "pace": "derived from distance",
        "manualValuesSpecified": "which values were typed",
        "elevationGainUnit": "Meter (metric units are asked for)",
    },
)

MAPPINGS = {
    m.record_type: m
    for m in (
        SLEEP,
        ACTIVITIES,
        HEART,
        HEART_INTRADAY,
        HRV,
        SPO2,
        BREATHING,
        SKIN_TEMPERATURE,
        WEIGHT,
        WORKOUT,
    )
}
