"""Oura golden tests: the vendor notes' sample documents, expected values worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

DAILY_SLEEP = {
    "id": "8a1d6c0e-3f2b-4e57-9d1a-0c4b2f7e9a11",
    "day": "2025-03-11",
    "score": 82,
    "timestamp": "2025-03-11T00:00:00+00:00",
    "contributors": {
        "deep_sleep": 91,
        "efficiency": 88,
        "latency": 74,
        "rem_sleep": 69,
        "restfulness": 77,
        "timing": 85,
        "total_sleep": 90,
    },
}
SLEEP = {
    "id": "2f9c1e44-8b70-4d2e-a6f3-5e1d0b9c7a22",
    "day": "2025-03-11",
    "type": "long_sleep",
    "period": 0,
    "bedtime_start": "2025-03-10T23:14:09+01:00",
    "bedtime_end": "2025-03-11T07:02:39+01:00",
    "time_in_bed": 28110,
    "total_sleep_duration": 25380,
    "awake_time": 2730,
    "light_sleep_duration": 13560,
    "deep_sleep_duration": 5220,
    "rem_sleep_duration": 6600,
    "latency": 540,
    "efficiency": 90,
    "average_breath": 14.6,
    "average_heart_rate": 55.38,
    "lowest_heart_rate": 49,
    "average_hrv": 61,
    "heart_rate": {
        "interval": 300.0,
        "items": [58.0, 57.0, None, 55.0],
        "timestamp": "2025-03-10T23:14:09.000+01:00",
    },
    "hrv": {
        "interval": 300.0,
        "items": [44.0, 52.0, None, 66.0],
        "timestamp": "2025-03-10T23:14:09.000+01:00",
    },
    "sleep_phase_5_min": "4422211113322",
    "movement_30_sec": "1112111211",
    "restless_periods": 171,
    "readiness": {
        "score": 79,
        "temperature_deviation": -0.12,
        "temperature_trend_deviation": 0.04,
        "contributors": {},
    },
    "readiness_score_delta": 0,
    "sleep_score_delta": 0,
    "low_battery_alert": False,
    "sleep_algorithm_version": "v2",
}
READINESS = {
    "id": "b5e7a3d2-1c9f-4a60-8e2b-7f4d3c1a0e99",
    "day": "2025-03-11",
    "score": 79,
    "timestamp": "2025-03-11T00:00:00+00:00",
    "temperature_deviation": -0.12,
    "temperature_trend_deviation": 0.04,
    "contributors": {"activity_balance": 83, "body_temperature": 98},
}
ACTIVITY = {
    "id": "0c3e9b1a-6d2f-47a8-b5c4-2e8f1d7a3b55",
    "day": "2025-03-11",
    "timestamp": "2025-03-11T04:00:00+01:00",
    "score": 88,
    "steps": 11342,
    "active_calories": 598,
    "total_calories": 2611,
    "target_calories": 550,
    "equivalent_walking_distance": 11020,
    "meters_to_target": 0,
    "target_meters": 10000,
    "high_activity_time": 1380,
    "medium_activity_time": 3540,
    "low_activity_time": 16200,
    "sedentary_time": 30120,
    "resting_time": 28800,
    "non_wear_time": 360,
    "high_activity_met_minutes": 230,
    "medium_activity_met_minutes": 210,
    "low_activity_met_minutes": 190,
    "sedentary_met_minutes": 12,
    "average_met_minutes": 1.71,
    "inactivity_alerts": 1,
    "class_5_min": "1111222334",
    "met": {
        "interval": 60.0,
        "items": [0.9, 0.9, 1.2],
        "timestamp": "2025-03-11T04:00:00.000+01:00",
    },
    "contributors": {"meet_daily_targets": 100, "move_every_hour": 95},
}
SPO2 = {
    "id": "7d1f0a2b-9e3c-4b58-a7d6-1c0e5f3b2a88",
    "day": "2025-03-11",
    "spo2_percentage": {"average": 96.41},
    "breathing_disturbance_index": 7,
}
# Heart-rate rows are stored as one document per UTC day (the provider groups the pages).
HR = {
    "day": "2025-03-11",
    "data": [
        {"bpm": 61, "source": "awake", "timestamp": "2025-03-11T12:31:21+00:00"},
        {"bpm": 54, "source": "rest", "timestamp": "2025-03-11T13:22:15+00:00"},
    ],
}
WORKOUT = {
    "id": "3c8b2e1f-0d4a-4f9e-b6a7-5e2c1d0f9a33",
    "activity": "running",
    "calories": 612.4,
    "day": "2025-03-11",
    "distance": 10240.0,
    "start_datetime": "2025-03-11T18:02:00+01:00",
    "end_datetime": "2025-03-11T18:58:30+01:00",
    "intensity": "hard",
    "label": None,
    "source": "confirmed",
}


def test_sleep_seconds_become_minutes_and_local_offset_is_kept(fmt):
    v = fmt.summary_values("oura", "sleep", SLEEP)  # its item series: test_value_gaps
    assert v["sleep_duration_in_bed"] == pytest.approx(468.5)  # 28110 / 60
    assert v["sleep_duration_asleep"] == pytest.approx(423.0)
    assert v["sleep_duration_awake"] == pytest.approx(45.5)
    assert (v["sleep_duration_light"], v["sleep_duration_deep"], v["sleep_duration_rem"]) == (
        pytest.approx(226.0),
        pytest.approx(87.0),
        pytest.approx(110.0),
    )
    assert v["sleep_latency"] == pytest.approx(9.0)
    assert (v["sleep_efficiency"], v["sleep_respiratory_rate"]) == (90, 14.6)
    assert (v["sleep_average_heart_rate"], v["sleep_lowest_heart_rate"]) == (55.38, 49)
    assert v["sleep_average_hrv_rmssd"] == 61
    row = fmt.rows("oura", [("sleep", SLEEP)]).row(0, named=True)
    assert row["time"] == datetime(2025, 3, 10, 22, 14, 9, tzinfo=UTC)
    assert row["end_time"] == datetime(2025, 3, 11, 6, 2, 39, tzinfo=UTC)
    assert row["tz_offset_s"] == 3600


def test_daily_activity_starts_at_four_local(fmt):
    v = fmt.values("oura", "daily_activity", ACTIVITY)
    assert (v["steps"], v["active_energy"], v["total_energy"], v["distance"]) == (
        11342,
        598,
        2611,
        11020,
    )
    assert v["vigorous_activity_duration"] == pytest.approx(23.0)  # 1380 s
    assert v["moderate_activity_duration"] == pytest.approx(59.0)
    assert v["light_activity_duration"] == pytest.approx(270.0)
    assert v["sedentary_duration"] == pytest.approx(502.0)
    assert v["activity_score"] == 88
    row = fmt.rows("oura", [("daily_activity", ACTIVITY)]).row(0, named=True)
    assert row["time"] == datetime(2025, 3, 11, 3, 0, tzinfo=UTC)
    assert row["tz_offset_s"] == 3600


def test_daily_scores_spo2_heart_rate_and_workout(fmt):
    assert fmt.values("oura", "daily_sleep", DAILY_SLEEP) == {"sleep_score": 82}
    assert fmt.values("oura", "daily_readiness", READINESS) == {
        "readiness_score": 79,
        "skin_temperature_deviation": -0.12,
    }
    assert fmt.values("oura", "daily_spo2", SPO2) == {
        "spo2_sleep_average": 96.41,
        "breathing_disturbance_index": 7,
    }
    hr = fmt.rows("oura", [("heartrate", HR)]).sort("time")
    assert hr["value"].to_list() == [61, 54]
    assert hr.row(0, named=True)["time"] == datetime(2025, 3, 11, 12, 31, 21, tzinfo=UTC)
    assert hr["tz_offset_s"].to_list() == [0, 0]
    v = fmt.values("oura", "workout", WORKOUT)
    assert (v["workout_duration"], v["workout_energy"], v["workout_distance"]) == (
        pytest.approx(56.5),
        612.4,
        10240.0,
    )


def test_null_scores_and_missing_spo2_are_skipped_not_failed(fmt):
    assert fmt.rows("oura", [("daily_sleep", DAILY_SLEEP | {"score": None})]).height == 0
    empty = SPO2 | {"spo2_percentage": None, "breathing_disturbance_index": None}
    assert fmt.rows("oura", [("daily_spo2", empty)]).height == 0


@pytest.mark.parametrize(
    "record_type,doc",
    [
        ("sleep", SLEEP),
        ("daily_sleep", DAILY_SLEEP),
        ("daily_readiness", READINESS),
        ("daily_activity", ACTIVITY),
        ("daily_spo2", SPO2),
        ("heartrate", HR),
        ("workout", WORKOUT),
    ],
)
def test_every_documented_field_is_mapped_or_ignored(fmt, coverage, record_type, doc):
    mapping = fmt.provider("oura").mappings[record_type]
    assert coverage(mapping.known_paths(), doc) == set()
