"""Garmin golden tests: the vendor notes' sample summaries, expected values worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from providers.errors import UnknownPayloadShapeError

UID = "4aacafe82427c251df9c9592d0c06768"
DAILY = {
    "userId": UID,
    "summaryId": "x3a1b2c4-67d0a3c0-15180",
    "calendarDate": "2025-03-11",
    "startTimeInSeconds": 1741647600,
    "startTimeOffsetInSeconds": 3600,
    "durationInSeconds": 86400,
    "activityType": "WALKING",
    "steps": 11402,
    "distanceInMeters": 8935.0,
    "activeTimeInSeconds": 6120,
    "activeKilocalories": 612,
    "bmrKilocalories": 1688,
    "moderateIntensityDurationInSeconds": 1860,
    "vigorousIntensityDurationInSeconds": 1320,
    "floorsClimbed": 9,
    "minHeartRateInBeatsPerMinute": 47,
    "averageHeartRateInBeatsPerMinute": 66,
    "maxHeartRateInBeatsPerMinute": 171,
    "restingHeartRateInBeatsPerMinute": 51,
    "timeOffsetHeartRateSamples": {"0": 58, "15": 57, "30": 57},
    "averageStressLevel": 29,
    "maxStressLevel": 91,
    "stressQualifier": "BALANCED",
    "bodyBatteryChargedValue": 58,
    "bodyBatteryDrainedValue": 62,
    "stepsGoal": 10000,
}
SLEEP = {
    "userId": UID,
    "summaryId": "x3a1b2c4-67cfc6e0-6e28",
    "calendarDate": "2025-03-11",
    "startTimeInSeconds": 1741644000,
    "startTimeOffsetInSeconds": 3600,
    "durationInSeconds": 28200,
    "unmeasurableSleepInSeconds": 0,
    "deepSleepDurationInSeconds": 5340,
    "lightSleepDurationInSeconds": 15180,
    "remSleepInSeconds": 6060,
    "awakeDurationInSeconds": 1620,
    "sleepLevelsMap": {
        "deep": [{"startTimeInSeconds": 1741645020, "endTimeInSeconds": 1741647120}]
    },
    "validation": "ENHANCED_FINAL",
    "timeOffsetSleepSpo2": {"0": 95, "60": 96},
    "timeOffsetSleepRespiration": {"0": 14.0, "60": 13.5},
    "overallSleepScore": {"value": 84, "qualifierKey": "GOOD"},
    "sleepScores": {"totalDuration": {"qualifierKey": "GOOD"}},
}
HRV = {
    "userId": UID,
    "summaryId": "x3a1b2c4-67cfc6e0",
    "calendarDate": "2025-03-11",
    "startTimeInSeconds": 1741644000,
    "startTimeOffsetInSeconds": 3600,
    "durationInSeconds": 28200,
    "lastNightAvg": 58,
    "lastNight5MinHigh": 91,
    "hrvValues": {"300": 49, "600": 55},
}
BODY = {
    "userId": UID,
    "summaryId": "x3a1b2c4-67d02a10",
    "measurementTimeInSeconds": 1741687312,
    "measurementTimeOffsetInSeconds": 3600,
    "weightInGrams": 74150,
    "bodyFatInPercent": 17.8,
    "bodyMassIndex": 23.4,
    "muscleMassInGrams": 34800,
    "boneMassInGrams": 3300,
    "bodyWaterInPercent": 57.9,
}
ACTIVITY = {
    "userId": UID,
    "summaryId": "18834522911",
    "activityId": 18834522911,
    "activityName": "Evening Run",
    "activityType": "RUNNING",
    "startTimeInSeconds": 1741712520,
    "startTimeOffsetInSeconds": 3600,
    "durationInSeconds": 3390,
    "distanceInMeters": 10241.5,
    "activeKilocalories": 648,
    "averageHeartRateInBeatsPerMinute": 151,
    "maxHeartRateInBeatsPerMinute": 178,
    "averageSpeedInMetersPerSecond": 3.02,
    "averagePaceInMinutesPerKilometer": 5.52,
    "averageRunCadenceInStepsPerMinute": 168.0,
    "steps": 9480,
    "totalElevationGainInMeters": 62.0,
    "totalElevationLossInMeters": 60.4,
    "deviceName": "forerunner265",
    "manual": False,
}
NIGHT = {
    "userId": UID,
    "calendarDate": "2025-03-11",
    "startTimeInSeconds": 1741644000,
    "startTimeOffsetInSeconds": 3600,
    "durationInSeconds": 28200,
}
STRESS = NIGHT | {"summaryId": "s1", "timeOffsetStressLevelValues": {"0": 25, "180": -1, "360": 40}}
PULSEOX = NIGHT | {
    "summaryId": "p1",
    "timeOffsetSpo2Values": {"0": 95, "3600": 97},
    "onDemand": False,
}
RESP = {k: v for k, v in NIGHT.items() if k != "calendarDate"} | {
    "summaryId": "r1",
    "timeOffsetEpochToBreaths": {"0": 14.5, "60": 13.0},
}
SKIN = NIGHT | {"summaryId": "t1", "avgDeviationCelsius": -0.3}
METRICS = {
    "userId": UID,
    "summaryId": "m1",
    "calendarDate": "2025-03-11",
    "vo2Max": 48.0,
    "vo2MaxCycling": 45.0,
    "enhanced": True,
    "fitnessAge": 31,
}


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_dailies_kcal_seconds_and_the_users_calendar_day(fmt):
    rows = fmt.rows("garmin", [("dailies", DAILY)])
    v = dict(zip(rows["indicator"], rows["value"], strict=False))
    assert (v["steps"], v["distance"], v["active_energy"], v["basal_energy"]) == (
        11402,
        8935.0,
        612,
        1688,
    )
    assert v["total_energy"] == 2300  # active + BMR
    assert (v["moderate_activity_duration"], v["vigorous_activity_duration"]) == (31.0, 22.0)
    assert (v["min_heart_rate"], v["average_heart_rate"], v["max_heart_rate"]) == (47, 66, 171)
    assert v["resting_heart_rate"] == 51 and v["floors_climbed"] == 9
    assert (v["body_battery_charged"], v["body_battery_drained"]) == (58, 62)
    rows = fmt.rows("garmin", [("dailies", DAILY)])
    day = rows.filter(rows["indicator"] == "steps").row(0, named=True)
    # 1741647600 is 2025-03-10T23:00Z: the local (+01:00) calendar day 2025-03-11 starts then
    assert day["time"] == datetime(2025, 3, 10, 23, 0, tzinfo=UTC) and day["tz_offset_s"] == 3600


def test_offset_keyed_heart_rate_samples_are_not_lost(fmt):
    rows = fmt.rows("garmin", [("dailies", DAILY)])
    hr = rows.filter(rows["indicator"] == "heart_rate").sort("time")
    assert hr["value"].to_list() == [58, 57, 57]
    assert hr["time"].to_list() == [at(1741647600), at(1741647615), at(1741647630)]


def test_sleeps_hrv_body_and_activity(fmt):
    v = fmt.summary_values("garmin", "sleeps", SLEEP)  # its SpO2/breathing: test_value_gaps
    assert (v["sleep_duration_in_bed"], v["sleep_duration_deep"], v["sleep_duration_light"]) == (
        470.0,
        89.0,
        253.0,
    )
    assert (v["sleep_duration_rem"], v["sleep_duration_awake"]) == (101.0, 27.0)
    assert v["sleep_duration_asleep"] == 443.0 and v["sleep_score"] == 84
    rows = fmt.rows("garmin", [("hrv", HRV)])
    assert rows.filter(rows["indicator"] == "sleep_average_hrv_rmssd")["value"].item() == 58
    series = rows.filter(rows["indicator"] == "hrv_rmssd").sort("time")
    assert series["value"].to_list() == [49, 55]
    assert series["time"].to_list() == [at(1741644300), at(1741644600)]
    b = fmt.values("garmin", "bodyComps", BODY)
    assert b["weight"] == pytest.approx(74.15) and b["muscle_mass"] == pytest.approx(34.8)
    assert b["bone_mass"] == pytest.approx(3.3)
    assert (b["body_fat_percentage"], b["bmi"], b["body_water_percentage"]) == (17.8, 23.4, 57.9)
    a = fmt.values("garmin", "activities", ACTIVITY)
    assert (a["workout_duration"], a["workout_distance"], a["workout_energy"]) == (
        56.5,
        10241.5,
        648,
    )
    assert a["workout_elevation_gain"] == 62.0


def test_stress_pulse_ox_respiration_and_skin_temperature(fmt):
    rows = fmt.rows("garmin", [("stressDetails", STRESS)])
    assert rows["value"].to_list() == [25, 40]  # -1 means "not measured"
    spo2 = fmt.rows("garmin", [("pulseox", PULSEOX)]).sort("time")
    assert spo2["value"].to_list() == [95, 97]
    assert spo2["time"].to_list() == [at(1741644000), at(1741647600)]
    resp = fmt.rows("garmin", [("respiration", RESP)]).sort("time")
    assert resp["value"].to_list() == [14.5, 13.0]
    assert fmt.values("garmin", "skinTemp", SKIN) == {"skin_temperature_deviation": -0.3}
    metrics = fmt.rows("garmin", [("userMetrics", METRICS)]).row(0, named=True)
    assert (metrics["indicator"], metrics["value"]) == ("vo2max", 48.0)
    assert metrics["time"] == datetime(2025, 3, 11, tzinfo=UTC)


def test_a_body_composition_under_another_weight_key_fails_loudly(fmt):
    renamed = {
        k: v
        for k, v in BODY.items()
        if not k.endswith("Percent")
        and k not in ("weightInGrams", "bodyMassIndex", "muscleMassInGrams", "boneMassInGrams")
    }
    with pytest.raises(UnknownPayloadShapeError):
        fmt.rows("garmin", [("bodyComps", renamed | {"weight": 74150})])


@pytest.mark.parametrize(
    "record_type,doc",
    [
        ("dailies", DAILY),
        ("sleeps", SLEEP),
        ("hrv", HRV),
        ("bodyComps", BODY),
        ("activities", ACTIVITY),
        ("stressDetails", STRESS),
        ("pulseox", PULSEOX),
        ("respiration", RESP),
        ("skinTemp", SKIN),
        ("userMetrics", METRICS),
    ],
)
def test_every_documented_field_is_mapped_or_ignored(fmt, coverage, record_type, doc):
    mapping = fmt.provider("garmin").mappings[record_type]
    assert coverage(mapping.known_paths(), doc) == set()


def test_pretty_printed_payloads_format_like_canonical_ones(fmt):
    import json

    import polars as pl

    raw = fmt.raw("garmin", [("dailies", DAILY), ("stressDetails", STRESS)])
    pretty = raw.with_columns(
        pl.col("payload").map_elements(
            lambda text: json.dumps(json.loads(text), indent=1), return_dtype=pl.String
        )
    )
    provider = fmt.provider("garmin")
    expected = provider.format(raw).sort("indicator", "time")
    assert provider.format(pretty).sort("indicator", "time").equals(expected)
    assert expected.filter(pl.col("indicator") == "heart_rate").height == 3
