"""Garmin Health API summaries to catalogue indicators. Times are epoch seconds UTC with
`…OffsetInSeconds`; durations seconds; energy kcal; body masses grams; `timeOffset*` maps are
keyed by seconds after `startTimeInSeconds`."""

from __future__ import annotations

import polars as pl

from indicators.timeutils import epoch_utc_expr
from providers.formatting import Field, RecordMapping
from providers.garmin.shapes import (
    NAP,
    SLEEP_SERIES,
    SNAPSHOT_ITEM,
    SampledMapping,
    daily_stress_rows,
    epoch_buckets,
    sleep_rows,
    snapshot_offset,
    snapshot_rows,
    with_payload,
)
from providers.series import Series
from providers.sleep_times import SLEEP_CLOCK_FIELDS, sleep_clock

INT = pl.Int64()
_START = {"startTimeInSeconds": INT, "startTimeOffsetInSeconds": INT, "durationInSeconds": INT}
_T = epoch_utc_expr("startTimeInSeconds")
_END = epoch_utc_expr(pl.col("startTimeInSeconds") + pl.col("durationInSeconds"))
_OFF = pl.col("startTimeOffsetInSeconds")
_IDS = {
    "userId": "vendor user id, on the connection",
    "summaryId": "kept as record_id",
    "userAccessToken": "OAuth 1.0a credential, never stored in values",
    "calendarDate": "local day, implied by time + offset",
    "startTimeInSeconds": "time",
    "startTimeOffsetInSeconds": "tz_offset_s",
    "durationInSeconds": "end_time",
}


def _span(
    record_type: str,
    fields: tuple[Field, ...],
    ignored: dict[str, str],
    series: tuple[Series, ...] = (),
    paths: dict[str, pl.DataType] | None = None,
    kind: type[RecordMapping] = RecordMapping,
    **kw: object,
) -> RecordMapping:
    mapped = {f.path for f in fields}
    ignored = {k: v for k, v in (_IDS | ignored).items() if k not in mapped}
    kw.setdefault("end_time", _END)
    kw.setdefault("tz_offset_s", _OFF)
    return kind(
        record_type=record_type,
        paths=_START | (paths or {}),
        time=_T,
        fields=fields,
        ignored=ignored,
        series=series,
        **kw,  # type: ignore[arg-type]
    )


DAILIES = _span(
    "dailies",
    (
        Field("steps", "steps", "{steps}"),
        Field("distanceInMeters", "distance", "m"),
        Field("activeKilocalories", "active_energy", "kcal"),
        Field("bmrKilocalories", "basal_energy", "kcal"),
        Field("total_kcal", "total_energy", "kcal"),  # active + BMR
        Field("moderateIntensityDurationInSeconds", "moderate_activity_duration", "s"),
        Field("vigorousIntensityDurationInSeconds", "vigorous_activity_duration", "s"),
        Field("floorsClimbed", "floors_climbed", "{floors}"),
        Field("minHeartRateInBeatsPerMinute", "min_heart_rate", "/min"),
        Field("averageHeartRateInBeatsPerMinute", "average_heart_rate", "/min"),
        Field("maxHeartRateInBeatsPerMinute", "max_heart_rate", "/min"),
        Field("restingHeartRateInBeatsPerMinute", "resting_heart_rate", "/min"),
        Field("highStressDurationInSeconds", "stress_duration_high", "s"),
        Field("bodyBatteryChargedValue", "body_battery_charged", "{score}"),
        Field("bodyBatteryDrainedValue", "body_battery_drained", "{score}"),
    ),
    {
        "activityType": "a label",
        "pushes": "wheelchair pushes: no catalogue indicator",
        "pushDistanceInMeters": "wheelchair distance: no catalogue indicator",
        "activeTimeInSeconds": "sum of the intensity durations that are mapped",
        "maxStressLevel": "the day's highest stress reading: no catalogue id for a maximum "
        "(the readings themselves are stressDetails' stress_level samples)",
        "stressDurationInSeconds": "split into the mapped high-stress duration",
        "restStressDurationInSeconds": "no catalogue indicator",
        "activityStressDurationInSeconds": "no catalogue indicator",
        "lowStressDurationInSeconds": "no catalogue indicator",
        "mediumStressDurationInSeconds": "no catalogue indicator",
        "stressQualifier": "a label",
        "stepsGoal": "goal",
        "pushesGoal": "goal",
        "intensityDurationGoalInSeconds": "goal",
        "floorsClimbedGoal": "goal",
    },
    series=(Series("timeOffsetHeartRateSamples", "heart_rate", "/min"),),
    # averageStressLevel: a stress_level row spanning the day, on source garmin.daily
    paths={"averageStressLevel": INT},
    rows=daily_stress_rows,
    derived={"total_kcal": pl.col("activeKilocalories") + pl.col("bmrKilocalories")},
)

SLEEPS = _span(
    "sleeps",
    (
        Field("durationInSeconds", "sleep_duration_in_bed", "s"),
        Field("deepSleepDurationInSeconds", "sleep_duration_deep", "s"),
        Field("lightSleepDurationInSeconds", "sleep_duration_light", "s"),
        Field("remSleepInSeconds", "sleep_duration_rem", "s"),
        Field("awakeDurationInSeconds", "sleep_duration_awake", "s"),
        Field("asleep_s", "sleep_duration_asleep", "s"),  # deep + light + REM
        Field("overallSleepScore.value", "sleep_score", "{score}"),
        *SLEEP_CLOCK_FIELDS,  # the night's bedtime and wake time (its naps are listed apart)
    ),
    {
        "unmeasurableSleepInSeconds": "sensor gap, not a stage",
        "sleepLevelsMap": "hypnogram intervals: no catalogue indicator",
        "validation": "TENTATIVE/FINAL: the later version replaces the earlier in the raw store",
        "overallSleepScore.qualifierKey": "a label",
        "sleepScores": "qualifier labels",
        "totalNapDurationInSeconds": "the sum of naps[], each a nap_duration row of its own",
        "naps.napValidation": "how the nap was detected (device/manual): a label",
    },
    paths={"naps": pl.List(NAP)},
    kind=SampledMapping,
    # the night's SpO2 and respiration samples (source garmin.sleep) and its naps
    read_by_rows=tuple(s.path for s in SLEEP_SERIES),
    prepare=with_payload("sleeps"),
    rows=sleep_rows,
    # Garmin gives the offset at the night's start only: the wake time is read on it too
    derived={
        "asleep_s": pl.col("deepSleepDurationInSeconds")
        + pl.col("lightSleepDurationInSeconds")
        + pl.col("remSleepInSeconds"),
        **sleep_clock(
            measured=(
                "deepSleepDurationInSeconds",
                "lightSleepDurationInSeconds",
                "remSleepInSeconds",
                "awakeDurationInSeconds",
            )
        ),
    },
)

HRV = _span(
    "hrv",
    (Field("lastNightAvg", "sleep_average_hrv_rmssd", "ms"),),
    {"lastNight5MinHigh": "a maximum of the 5-min series, no catalogue id"},
    series=(Series("hrvValues", "hrv_rmssd", "ms"),),
)

BODY_COMPS = RecordMapping(
    record_type="bodyComps",
    paths={"measurementTimeInSeconds": INT, "measurementTimeOffsetInSeconds": INT},
    time=epoch_utc_expr("measurementTimeInSeconds"),
    tz_offset_s=pl.col("measurementTimeOffsetInSeconds"),
    fields=(
        Field("weightInGrams", "weight", "g"),
        Field("bodyFatInPercent", "body_fat_percentage", "%"),
        Field("bodyMassIndex", "bmi", "kg/m2"),
        Field("muscleMassInGrams", "muscle_mass", "g"),
        Field("boneMassInGrams", "bone_mass", "g"),
        Field("bodyWaterInPercent", "body_water_percentage", "%"),
    ),
    ignored={k: v for k, v in _IDS.items() if "startTime" not in k and k != "durationInSeconds"}
    | {"measurementTimeInSeconds": "time", "measurementTimeOffsetInSeconds": "tz_offset_s"},
)

PULSEOX = _span(
    "pulseox",
    (),
    {"onDemand": "spot check vs all-day: both are SpO2 samples"},
    series=(Series("timeOffsetSpo2Values", "spo2", "%"),),
)
RESPIRATION = _span(
    "respiration", (), {}, series=(Series("timeOffsetEpochToBreaths", "respiratory_rate", "/min"),)
)
SKIN_TEMP = _span(
    "skinTemp", (Field("avgDeviationCelsius", "skin_temperature_deviation", "Cel"),), {}
)
STRESS = _span(
    "stressDetails",
    (),
    {
        "bodyBatteryDynamicFeedbackEvent": "a coaching label",
        "bodyBatteryActivityEvents": "impact events: no catalogue indicator",
    },
    series=(
        Series("timeOffsetStressLevelValues", "stress_level", "{score}", min_valid=0),
        Series("timeOffsetBodyBatteryValues", "body_battery", "{score}", min_valid=0),
    ),
)
ACTIVITIES = _span(
    "activities",
    (
        Field("durationInSeconds", "workout_duration", "s"),
        Field("distanceInMeters", "workout_distance", "m"),
        Field("activeKilocalories", "workout_energy", "kcal"),
        Field("averageHeartRateInBeatsPerMinute", "workout_average_heart_rate", "/min"),
        Field("maxHeartRateInBeatsPerMinute", "workout_max_heart_rate", "/min"),
        Field("totalElevationGainInMeters", "workout_elevation_gain", "m"),
    ),
    {
        "activityId": "vendor id",
        "activityName": "a label",
        "activityDescription": "a label",
        "activityType": "a label",
        "averageSpeedInMetersPerSecond": "derivable: distance/time",
        "maxSpeedInMetersPerSecond": "no catalogue indicator",
        "averagePaceInMinutesPerKilometer": "derivable",
        "maxPaceInMinutesPerKilometer": "none",
        "averageRunCadenceInStepsPerMinute": "no catalogue indicator",
        "averageBikeCadenceInRoundsPerMinute": "no catalogue indicator",
        "averageSwimCadenceInStrokesPerMinute": "no catalogue indicator",
        "steps": "the dailies' steps (the day's total) count them already",
        "totalElevationLossInMeters": "none",
        "startingLatitudeInDegree": "location is not stored",
        "startingLongitudeInDegree": "same",
        "deviceName": "device label",
        "manual": "flag",
        "isWebUpload": "flag",
        "isParent": "flag",
        "parentSummaryId": "multisport link",
    },
)

# userMetrics carry a local calendar date only: dated 00:00 of it with offset 0.
USER_METRICS = RecordMapping(
    record_type="userMetrics",
    paths={"calendarDate": pl.String()},
    time=pl.col("calendarDate").str.to_date().cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
    tz_offset_s=pl.lit(0),
    offset="day",
    fields=(Field("vo2Max", "vo2max", "mL/(kg.min)"),),
    ignored={
        "userId": "vendor user id",
        "summaryId": "kept as record_id",
        "calendarDate": "time",
        "vo2MaxCycling": "sport-specific estimate, no id",
        "enhanced": "a flag",
        "fitnessAge": "no catalogue indicator",
    },
)

# Epochs are the 15-minute detail of the dailies' totals, on a source of their own
# ("garmin.epochs"): a day rolls up per source, so its steps are the sum of either the epochs
# or the daily summary (source "garmin"), never of both; the merge then picks one source.
EPOCHS = _span(
    "epochs",
    (
        Field("steps", "steps", "{steps}"),
        Field("distanceInMeters", "distance", "m"),
        Field("activeKilocalories", "active_energy", "kcal"),
    ),
    {
        "activityType": "one epoch per activity type and bucket: the bucket's parts are summed",
        "activeTimeInSeconds": "movement time in the bucket; the dailies carry intensity minutes",
        "met": "metabolic equivalent of the bucket: no catalogue indicator",
        "intensity": "SEDENTARY/ACTIVE/HIGHLY_ACTIVE class, not the catalogue's intensity minutes",
        "meanMotionIntensity": "accelerometer level: no catalogue indicator",
        "maxMotionIntensity": "accelerometer level: no catalogue indicator",
    },
    prepare=epoch_buckets,
    device=pl.lit("epochs"),
)

# A cuff (Index BPM) or a typed-in reading: its pulse is a heart-rate sample of that device,
# kept apart from the watch's all-day samples (which may share the instant).
BLOOD_PRESSURES = RecordMapping(
    record_type="bloodPressures",
    paths={
        "measurementTimeInSeconds": INT,
        "measurementTimeOffsetInSeconds": INT,
        "sourceType": pl.String(),
    },
    time=epoch_utc_expr("measurementTimeInSeconds"),
    tz_offset_s=pl.col("measurementTimeOffsetInSeconds"),
    device=pl.when(pl.col("sourceType") == "MANUAL")
    .then(pl.lit("manual"))
    .otherwise(pl.lit("bp_monitor")),
    fields=(
        Field("systolic", "blood_pressure_systolic", "mm[Hg]"),
        Field("diastolic", "blood_pressure_diastolic", "mm[Hg]"),
        Field("pulse", "heart_rate", "/min"),
    ),
    ignored={
        k: v
        for k, v in BODY_COMPS.ignored.items()
        if k
        in (
            "userId",
            "summaryId",
            "userAccessToken",
            "measurementTimeInSeconds",
            "measurementTimeOffsetInSeconds",
        )
    }
    | {"sourceType": "MANUAL/DEVICE: the source's device part (garmin.manual, garmin.bp_monitor)"},
)

# A 2-minute on-demand Health Snapshot: the averages of its summaries are samples dated at its
# start, on source "garmin.snapshot" (the watch's all-day samples may share the instant).
HEALTH_SNAPSHOT = _span(
    "healthSnapshot",
    (),
    {
        "calendarDate": "local day: sets the offset when startTimeOffsetInSeconds is absent",
        "durationInSeconds": "the 2-minute window: its averages are samples at its start",
        "summaries.minValue": "the window's extreme: the average is kept",
        "summaries.maxValue": "the window's extreme: the average is kept",
        "summaries.epochSummaries": "readings inside the 2-minute window: the average is kept",
    },
    paths={"calendarDate": pl.String(), "summaries": pl.List(SNAPSHOT_ITEM)},
    rows=snapshot_rows,
    tz_offset_s=snapshot_offset(),
    device=pl.lit("snapshot"),
)

MAPPINGS = {
    m.record_type: m
    for m in (
        DAILIES,
        EPOCHS,
        SLEEPS,
        HRV,
        BODY_COMPS,
        PULSEOX,
        RESPIRATION,
        SKIN_TEMP,
        STRESS,
        ACTIVITIES,
        USER_METRICS,
        BLOOD_PRESSURES,
        HEALTH_SNAPSHOT,
    )
}
