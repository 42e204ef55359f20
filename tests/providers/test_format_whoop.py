"""WHOOP golden tests: the vendor notes' sample documents, expected values worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from providers.errors import UnknownPayloadShapeError

SLEEP = {
    "id": "5f0c2a1e-7b9d-4c33-9a51-2d8e6f1b0c44",
    "cycle_id": 418772301,
    "user_id": 2231907,
    "created_at": "2025-03-11T11:01:55.020Z",
    "updated_at": "2025-03-11T11:04:40.731Z",
    "start": "2025-03-10T22:48:12.310Z",
    "end": "2025-03-11T06:41:03.870Z",
    "timezone_offset": "+01:00",
    "nap": False,
    "score_state": "SCORED",
    "score": {
        "stage_summary": {
            "total_in_bed_time_milli": 28371560,
            "total_awake_time_milli": 2102000,
            "total_no_data_time_milli": 0,
            "total_light_sleep_time_milli": 13920000,
            "total_slow_wave_sleep_time_milli": 5880000,
            "total_rem_sleep_time_milli": 6469560,
            "sleep_cycle_count": 4,
            "disturbance_count": 9,
        },
        "sleep_needed": {
            "baseline_milli": 27000000,
            "need_from_sleep_debt_milli": 540000,
            "need_from_recent_strain_milli": 312000,
            "need_from_recent_nap_milli": 0,
        },
        "respiratory_rate": 15.2,
        "sleep_performance_percentage": 93.0,
        "sleep_consistency_percentage": 81.0,
        "sleep_efficiency_percentage": 92.6,
    },
}
RECOVERY = {
    "cycle_id": 418772301,
    "sleep_id": "5f0c2a1e-7b9d-4c33-9a51-2d8e6f1b0c44",
    "user_id": 2231907,
    "created_at": "2025-03-11T11:02:17.442Z",
    "updated_at": "2025-03-11T11:05:09.118Z",
    "score_state": "SCORED",
    "score": {
        "user_calibrating": False,
        "recovery_score": 71.0,
        "resting_heart_rate": 52.0,
        "hrv_rmssd_milli": 63.417,
        "spo2_percentage": 96.3,
        "skin_temp_celsius": 33.9,
    },
}
CYCLE = {
    "id": 418772301,
    "user_id": 2231907,
    "created_at": "2025-03-10T22:50:01.000Z",
    "updated_at": "2025-03-11T20:15:33.000Z",
    "start": "2025-03-10T22:48:12.310Z",
    "timezone_offset": "+01:00",
    "score_state": "SCORED",
    "score": {
        "strain": 11.84,
        "kilojoule": 9621.4,
        "average_heart_rate": 71,
        "max_heart_rate": 168,
    },
}
WORKOUT = {
    "id": "c8e1b2f4-0a55-4d0e-8f3b-61d2a9e7c013",
    "user_id": 2231907,
    "created_at": "2025-03-11T18:40:02.000Z",
    "updated_at": "2025-03-11T18:52:11.000Z",
    "start": "2025-03-11T17:02:00.000Z",
    "end": "2025-03-11T17:58:30.000Z",
    "timezone_offset": "+01:00",
    "sport_name": "running",
    "score_state": "SCORED",
    "score": {
        "strain": 12.9,
        "average_heart_rate": 151,
        "max_heart_rate": 178,
        "kilojoule": 2710.5,
        "percent_recorded": 99.0,
        "distance_meter": 10240.0,
        "altitude_gain_meter": 62.0,
        "altitude_change_meter": 1.5,
        "zone_durations": {
            "zone_zero_milli": 0,
            "zone_one_milli": 240000,
            "zone_two_milli": 810000,
            "zone_three_milli": 1500000,
            "zone_four_milli": 720000,
            "zone_five_milli": 120000,
        },
    },
}
BODY = {"height_meter": 1.78, "weight_kilogram": 74.2, "max_heart_rate": 192}


def test_sleep_milliseconds_become_minutes(fmt):
    v = fmt.values("whoop", "sleep", SLEEP)
    assert v["sleep_duration_in_bed"] == pytest.approx(472.859333, abs=1e-6)  # 28371560/60000
    assert v["sleep_duration_awake"] == pytest.approx(35.033333, abs=1e-6)
    assert v["sleep_duration_light"] == pytest.approx(232.0)
    assert v["sleep_duration_deep"] == pytest.approx(98.0)  # slow-wave sleep
    assert v["sleep_duration_rem"] == pytest.approx(107.826)
    assert v["sleep_duration_asleep"] == pytest.approx(437.826)  # 232 + 98 + 107.826
    assert (v["sleep_cycles"], v["sleep_disturbances"]) == (4, 9)
    assert (v["sleep_respiratory_rate"], v["sleep_efficiency"]) == (15.2, 92.6)
    assert (v["sleep_performance"], v["sleep_consistency"]) == (93.0, 81.0)


def test_sleep_times_are_utc_with_the_local_offset_kept(fmt):
    rows = fmt.rows("whoop", [("sleep", SLEEP)])
    row = rows.row(0, named=True)
    assert row["time"] == datetime(2025, 3, 10, 22, 48, 12, 310000, tzinfo=UTC)
    assert row["end_time"] == datetime(2025, 3, 11, 6, 41, 3, 870000, tzinfo=UTC)
    assert row["tz_offset_s"] == 3600
    assert row["source"] == "whoop" and row["record_id"] == SLEEP["id"]


def test_cycle_kilojoules_are_divided_into_kilocalories(fmt):
    v = fmt.values("whoop", "cycle", CYCLE)
    assert v["total_energy"] == pytest.approx(2299.5698, abs=1e-4)  # 9621.4 / 4.184
    assert (v["strain"], v["average_heart_rate"], v["max_heart_rate"]) == (11.84, 71, 168)
    small = CYCLE | {"score": CYCLE["score"] | {"kilojoule": 799.0}}
    assert fmt.values("whoop", "cycle", small)["total_energy"] == pytest.approx(190.97, abs=5e-3)


def test_an_open_cycle_has_no_end_time(fmt):
    rows = fmt.rows("whoop", [("cycle", CYCLE)])
    assert rows["end_time"].null_count() == rows.height


def test_workout_energy_zones_and_duration(fmt):
    v = fmt.values("whoop", "workout", WORKOUT)
    assert v["workout_energy"] == pytest.approx(647.825, abs=1e-3)  # 2710.5 / 4.184
    assert v["workout_duration"] == pytest.approx(56.5)  # 17:02:00 -> 17:58:30
    zones = [v[f"heart_rate_zone_{i}_duration"] for i in range(6)]
    assert zones == pytest.approx([0.0, 4.0, 13.5, 25.0, 12.0, 2.0])  # ms / 60000
    assert (v["workout_distance"], v["workout_elevation_gain"]) == (10240.0, 62.0)
    assert (v["workout_average_heart_rate"], v["workout_max_heart_rate"]) == (151, 178)


def test_recovery_is_dated_by_its_sleep(fmt):
    rows = fmt.rows("whoop", [("sleep", SLEEP), ("recovery", RECOVERY)])
    rec = rows.filter(rows["indicator"] == "recovery_score").row(0, named=True)
    assert rec["time"] == datetime(2025, 3, 11, 6, 41, 3, 870000, tzinfo=UTC)
    assert rec["tz_offset_s"] == 3600 and rec["value"] == 71.0
    values = dict(zip(rows["indicator"], rows["value"], strict=True))
    assert values["sleep_average_hrv_rmssd"] == 63.417
    assert (values["resting_heart_rate"], values["spo2_sleep_average"]) == (52.0, 96.3)
    assert values["skin_temperature"] == 33.9


def test_recovery_without_its_sleep_fails_loudly(fmt):
    with pytest.raises(UnknownPayloadShapeError, match="time anchor"):
        fmt.rows("whoop", [("recovery", RECOVERY)])


def test_pending_scores_yield_no_rows_and_no_error(fmt):
    pending = {k: v for k, v in SLEEP.items() if k != "score"} | {"score_state": "PENDING_SCORE"}
    assert fmt.rows("whoop", [("sleep", pending)]).height == 0


def test_a_scored_sleep_of_unknown_shape_fails_loudly(fmt):
    renamed = SLEEP | {"score": {"stages": SLEEP["score"]["stage_summary"]}}
    with pytest.raises(UnknownPayloadShapeError, match="none of the mapped fields"):
        fmt.rows("whoop", [("sleep", renamed)])
    with pytest.raises(UnknownPayloadShapeError):
        fmt.rows("whoop", [("sleep", SLEEP | {"start": 1741646892})])  # wrong type


def test_body_measurement(fmt):
    v = fmt.values("whoop", "body", BODY)
    assert (v["height"], v["weight"], v["user_max_heart_rate"]) == (1.78, 74.2, 192)


@pytest.mark.parametrize(
    "record_type,doc",
    [
        ("sleep", SLEEP),
        ("recovery", RECOVERY),
        ("cycle", CYCLE),
        ("workout", WORKOUT),
        ("body", BODY),
    ],
)
def test_every_documented_field_is_mapped_or_ignored(fmt, coverage, record_type, doc):
    mapping = fmt.provider("whoop").mappings[record_type]
    assert coverage(mapping.known_paths(), doc) == set()


def test_an_unknown_extra_field_is_named_in_a_warning(fmt, caplog):
    with caplog.at_level("WARNING", logger="providers.formatting"):
        fmt.rows("whoop", [("body", BODY | {"wingspan_meter": 1.8})])
    assert "wingspan_meter" in caplog.text
