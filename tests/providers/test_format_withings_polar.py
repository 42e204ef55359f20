"""Withings and Polar golden tests: vendor notes' samples, expected values worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from providers.errors import UnknownPayloadShapeError

MEASURE = {
    "grpid": 5829112233,
    "attrib": 0,
    "date": 1741687312,
    "created": 1741687350,
    "modified": 1741687350,
    "category": 1,
    "deviceid": "c9d1e2f3a4b5",
    "hash_deviceid": "c9d1e2f3a4b5",
    "model": "Body Cardio",
    "model_id": 6,
    "timezone": "Europe/Berlin",
    "measures": [
        {"value": 74150, "type": 1, "unit": -3},
        {"value": 1786, "type": 6, "unit": -2},
        {"value": 1324, "type": 8, "unit": -2},
        {"value": 5811, "type": 76, "unit": -2},
        {"value": 54, "type": 11, "unit": 0},
    ],
}
W_ACTIVITY = {
    "date": "2025-03-11",
    "timezone": "Europe/Berlin",
    "deviceid": None,
    "hash_deviceid": None,
    "brand": 18,
    "is_tracker": False,
    "modified": 1741733000,
    "steps": 11342,
    "distance": 8712.4,
    "elevation": 9,
    "soft": 10740,
    "moderate": 2100,
    "intense": 1320,
    "active": 3420,
    "calories": 598.2,
    "totalcalories": 2611.7,
    "hr_average": 66,
    "hr_min": 47,
    "hr_max": 171,
    "hr_zone_0": 47000,
    "hr_zone_1": 5800,
    "hr_zone_2": 2460,
    "hr_zone_3": 180,
}
W_SLEEP = {
    "id": 2934455667,
    "timezone": "Europe/Berlin",
    "model": 32,
    "model_id": 63,
    "startdate": 1741645500,
    "enddate": 1741673520,
    "date": "2025-03-11",
    "created": 1741675000,
    "modified": 1741675000,
    "data": {
        "total_timeinbed": 28020,
        "total_sleep_time": 25080,
        "lightsleepduration": 13500,
        "deepsleepduration": 5160,
        "remsleepduration": 6420,
        "wakeupduration": 2940,
        "sleep_latency": 600,
        "wakeup_latency": 420,
        "waso": 1920,
        "wakeupcount": 3,
        "out_of_bed_count": 1,
        "nb_rem_episodes": 5,
        "sleep_efficiency": 0.9,
        "sleep_score": 81,
        "hr_average": 55,
        "hr_min": 48,
        "hr_max": 77,
        "rr_average": 14,
        "rr_min": 11,
        "rr_max": 19,
        "breathing_disturbances_intensity": 9,
        "snoring": 840,
        "snoringepisodecount": 3,
    },
}
USER = "https://www.polaraccesslink.com/v3/users/48213377"
P_SLEEP = {
    "polar_user": USER,
    "date": "2025-03-11",
    "sleep_start_time": "2025-03-10T23:20:41+01:00",
    "sleep_end_time": "2025-03-11T07:04:11+01:00",
    "device_id": "C2A91F3E",
    "continuity": 3.4,
    "continuity_class": 3,
    "light_sleep": 14820,
    "deep_sleep": 4920,
    "rem_sleep": 5880,
    "unrecognized_sleep_stage": 0,
    "sleep_score": 79,
    "total_interruption_duration": 2190,
    "sleep_charge": 3,
    "sleep_goal": 28800,
    "sleep_rating": 0,
    "short_interruption_duration": 750,
    "long_interruption_duration": 1440,
    "sleep_cycles": 5,
    "group_duration_score": 88.0,
    "group_solidity_score": 71.5,
    "group_regeneration_score": 62.0,
    "hypnogram": {"23:20": 2, "23:41": 3, "00:12": 4, "01:05": 1},
    "heart_rate_samples": {"23:22": 61, "23:27": 58, "00:12": 57},
}
RECHARGE = {
    "polar_user": USER,
    "date": "2025-03-11",
    "heart_rate_avg": 56,
    "beat_to_beat_avg": 1071,
    "heart_rate_variability_avg": 54,
    "breathing_rate_avg": 13.9,
    "nightly_recharge_status": 4,
    "ans_charge": 1.8,
    "ans_charge_status": 3,
    "hrv_samples": {"23:25": 47, "23:30": 52},
    "breathing_samples": {"23:24": 14.1, "23:29": 13.8},
}
P_ACTIVITY = {
    "start_time": "2025-03-11T00:00:00",
    "end_time": "2025-03-11T23:59:59",
    "active_duration": "PT3H12M",
    "inactive_duration": "PT9H41M",
    "daily_activity": 104.2,
    "calories": 2588,
    "active_calories": 611,
    "steps": 11342,
    "inactivity_alert_count": 1,
    "distance_from_steps": 8604.1,
    "samples": {
        "date": "2025-03-11",
        "steps": {"interval_ms": 60000, "total_steps": 11342, "samples": []},
    },
}
EXERCISE = {
    "id": "Lk9dQ2",
    "upload_time": "2025-03-11T17:10:43.000Z",
    "polar_user": USER,
    "device": "Polar Vantage V3",
    "device_id": "C2A91F3E",
    "start_time": "2025-03-11T18:02:00",
    "start_time_utc_offset": 60,
    "duration": "PT56M30S",
    "calories": 640,
    "distance": 10240,
    "heart_rate": {"average": 151, "maximum": 178},
    "training_load": 142.7,
    "sport": "RUNNING",
    "detailed_sport_info": "RUNNING",
    "has_route": True,
}
PHYSICAL = {
    "weight": 70.5,
    "height": 175.0,
    "created": "2024-06-01T12:00:00Z",
    "modified": "2024-06-10T12:00:00Z",
    "birthday": "1990-01-01",
    "gender": "MALE",
    "maximum_heart_rate": 190,
    "resting_heart_rate": 60,
    "aerobic_threshold": 140,
    "anaerobic_threshold": 170,
    "vo2_max": 50,
    "weight_source": "SOURCE_USER",
    "training_background": "REGULAR",
    "typical_day": "MOSTLY_MOVING",
    "sleep_goal": "PT8H",
}


def test_withings_measures_are_value_times_ten_to_the_unit(fmt):
    v = fmt.values("withings", "measure", MEASURE)
    assert v["weight"] == pytest.approx(74.15)  # 74150 * 10^-3
    assert v["body_fat_percentage"] == pytest.approx(17.86)
    assert v["fat_mass"] == pytest.approx(13.24) and v["muscle_mass"] == pytest.approx(58.11)
    assert v["heart_rate"] == 54
    row = fmt.rows("withings", [("measure", MEASURE)]).row(0, named=True)
    assert row["time"] == datetime.fromtimestamp(1741687312, UTC)
    assert row["tz_offset_s"] == 3600  # Europe/Berlin in March, before DST


def test_withings_unknown_meastype_fails_loudly(fmt):
    odd = MEASURE | {"measures": [{"value": 1, "type": 9999, "unit": 0}]}
    with pytest.raises(UnknownPayloadShapeError, match="9999"):
        fmt.rows("withings", [("measure", odd)])


def test_withings_activity_is_a_local_day_in_its_iana_zone(fmt):
    v = fmt.values("withings", "activity", W_ACTIVITY)
    assert (v["steps"], v["distance"], v["floors_climbed"]) == (11342, 8712.4, 9)
    assert v["light_activity_duration"] == pytest.approx(179.0)  # 10740 s
    assert (v["moderate_activity_duration"], v["vigorous_activity_duration"]) == (35.0, 22.0)
    assert (v["active_energy"], v["total_energy"]) == (598.2, 2611.7)
    assert "heart_rate_zone_0_duration" not in v  # other zone bounds: ignored
    row = fmt.rows("withings", [("activity", W_ACTIVITY)]).row(0, named=True)
    assert row["time"] == datetime(2025, 3, 10, 23, 0, tzinfo=UTC)
    assert row["tz_offset_s"] == 3600


def test_withings_sleep_summary(fmt):
    v = fmt.values("withings", "sleep", W_SLEEP)
    assert (v["sleep_duration_in_bed"], v["sleep_duration_asleep"]) == (467.0, 418.0)
    assert (v["sleep_duration_light"], v["sleep_duration_deep"], v["sleep_duration_rem"]) == (
        225.0,
        86.0,
        107.0,
    )
    assert (v["sleep_duration_awake"], v["sleep_latency"]) == (49.0, 10.0)
    assert v["sleep_efficiency"] == pytest.approx(90.0)  # a 0.9 ratio
    assert (v["sleep_score"], v["sleep_average_heart_rate"], v["sleep_lowest_heart_rate"]) == (
        81,
        55,
        48,
    )
    assert v["sleep_respiratory_rate"] == 14


def test_polar_sleep_and_clock_keyed_samples_roll_past_midnight(fmt):
    rows = fmt.rows("polar", [("sleep", P_SLEEP)])
    v = dict(zip(rows["indicator"], rows["value"], strict=False))
    assert (v["sleep_duration_light"], v["sleep_duration_deep"], v["sleep_duration_rem"]) == (
        247.0,
        82.0,
        98.0,
    )
    assert v["sleep_duration_asleep"] == 427.0  # 14820 + 4920 + 5880 s
    assert (v["sleep_score"], v["sleep_cycles"]) == (79, 5)
    hr = rows.filter(rows["indicator"] == "heart_rate").sort("time")
    assert hr["time"].to_list() == [
        datetime(2025, 3, 10, 22, 22, tzinfo=UTC),
        datetime(2025, 3, 10, 22, 27, tzinfo=UTC),
        datetime(2025, 3, 10, 23, 12, tzinfo=UTC),
    ]
    assert hr["value"].to_list() == [61, 58, 57]


def test_polar_exercise_local_time_and_offset_minutes(fmt):
    v = fmt.values("polar", "exercises", EXERCISE)
    assert v["workout_duration"] == pytest.approx(56.5)  # PT56M30S
    assert (v["workout_energy"], v["workout_distance"]) == (640, 10240)
    assert (v["workout_average_heart_rate"], v["workout_max_heart_rate"]) == (151, 178)
    row = fmt.rows("polar", [("exercises", EXERCISE)]).row(0, named=True)
    assert row["time"] == datetime(2025, 3, 11, 17, 2, tzinfo=UTC)
    assert row["end_time"] == datetime(2025, 3, 11, 17, 58, 30, tzinfo=UTC)
    assert row["tz_offset_s"] == 3600


def test_polar_recharge_activity_and_physical_info(fmt):
    assert fmt.summary_values("polar", "nightly-recharge", RECHARGE) == {
        "sleep_average_hrv_rmssd": 54,
        "sleep_respiratory_rate": 13.9,
        "nightly_recharge_ans_charge": 1.8,
    }
    assert fmt.values("polar", "activities", P_ACTIVITY) == {
        "steps": 11342,
        "total_energy": 2588,
        "active_energy": 611,
        "distance": 8604.1,
    }
    v = fmt.values("polar", "physical-info", PHYSICAL)
    assert v == {
        "weight": 70.5,
        "height": pytest.approx(1.75),
        "user_max_heart_rate": 190,
        "vo2max": 50,
    }
    hyphenated = {
        "weight": 70.5,
        "height": 175.0,
        "modified": "2024-06-10T12:00:00Z",
        "maximum-heart-rate": 190,
        "vo2-max": 50,
    }
    assert fmt.values("polar", "physical-info", hyphenated)["user_max_heart_rate"] == 190


@pytest.mark.parametrize(
    "slug,record_type,doc",
    [
        ("withings", "measure", MEASURE),
        ("withings", "activity", W_ACTIVITY),
        ("withings", "sleep", W_SLEEP),
        ("polar", "sleep", P_SLEEP),
        ("polar", "nightly-recharge", RECHARGE),
        ("polar", "activities", P_ACTIVITY),
        ("polar", "exercises", EXERCISE),
        ("polar", "physical-info", PHYSICAL),
    ],
)
def test_every_documented_field_is_mapped_or_ignored(fmt, coverage, slug, record_type, doc):
    mapping = fmt.provider(slug).mappings[record_type]
    assert coverage(mapping.known_paths(), doc) == set()
