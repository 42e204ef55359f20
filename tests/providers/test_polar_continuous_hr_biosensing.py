"""Polar continuous heart rate and Elixir biosensing: golden formatting on the AccessLink
spec's example payloads with values worked by hand, documented fields, and the sandbox over
real HTTP (28-day ranges, 204s, offsets found from the user's sleep)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import polars as pl
import pytest

from providers.polar.provider import ranges
from providers.sandbox.physiology import PERSONS, day_truth, heart_rate
from providers.types import MemoryTokenStore, Window

USER = "https://polaraccesslink.com/v3/users/627139"
CHR = {
    "polar_user": USER,
    "date": "2022-09-12",
    "heart_rate_samples": [
        {"heart_rate": 63, "sample_time": "00:02:08"},
        {"heart_rate": 62, "sample_time": "00:07:08"},
    ],
}
SLEEP = {
    "polar_user": USER,
    "date": "2022-09-12",
    "sleep_start_time": "2022-09-11T23:20:41+03:00",
    "sleep_end_time": "2022-09-12T07:04:11+03:00",
    "light_sleep": 14820,
    "deep_sleep": 4920,
    "rem_sleep": 5880,
    "unrecognized_sleep_stage": 0,
}
EXERCISE = {
    "id": "Lk9dQ2",
    "start_time": "2022-09-10T18:02:00",
    "start_time_utc_offset": 120,
    "duration": "PT56M30S",
    "calories": 640,
}
SKIN = {
    "sleep_time_skin_temperature_celsius": 36.5,
    "deviation_from_baseline_celsius": 0.5,
    "sleep_date": "2022-09-12",
}
BODY = {
    "source_device_id": "1111AAAA",
    "measurement_type": "TM_CORE_TEMPERATURE",
    "sensor_location": "SL_PROXIMAL",
    "start_time": "2023-10-20T04:00:00",
    "end_time": "2023-10-20T05:00:00",
    "modified_time": "2023-10-20T04:00:00",
    "samples": [
        {"temperature_celsius": 36.5, "recording_time_delta_milliseconds": 123},
        {"temperature_celsius": 36.7, "recording_time_delta_milliseconds": 60000},
    ],
}
SPO2 = {
    "source_device_id": "1111AAAA",
    "test_time": 1697787256,
    "time_zone_offset": 180,
    "test_status": "SPO2_TEST_PASSED",
    "blood_oxygen_percent": 95,
    "spo2_class": "SPO2_CLASS_NORMAL",
    "spo2_value_deviation_from_baseline": "DEVIATION_NO_BASELINE",
    "spo2_quality_average_percent": 90.0,
    "average_heart_rate_bpm": 60,
    "heart_rate_variability_ms": 100.0,
    "spo2_hrv_deviation_from_baseline": "DEVIATION_NO_BASELINE",
    "altitude_meters": 50.0,
}
ECG = {
    "source_device_id": "1111AAAA",
    "test_time": 1697787256,
    "time_zone_offset": 180,
    "average_heart_rate_bpm": 60,
    "heart_rate_variability_ms": 0.0,
    "heart_rate_variability_level": "ECG_HRV_LEVEL_NO_BASELINE",
    "rri_ms": 100.0,
    "pulse_transit_time_systolic_ms": 100.0,
    "pulse_transit_time_diastolic_ms": 100.0,
    "pulse_transit_time_quality_index": 100.0,
    "samples": [{"recording_time_delta_ms": 123, "amplitude_mv": 0.1}],
    "quality_measurements": [{"recording_time_delta_ms": 123, "quality_level": "ECG_QUALITY_HIGH"}],
}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _of(rows: pl.DataFrame, record_type: str) -> pl.DataFrame:
    return rows.filter(pl.col("record_id").str.starts_with(record_type)).sort("time")


def test_continuous_heart_rate_takes_the_offset_of_the_same_days_sleep(fmt):
    rows = _of(
        fmt.rows("polar", [("continuous-heart-rate", CHR), ("sleep", SLEEP)]),
        "continuous-heart-rate",
    )
    # 00:02:08 local at +03:00 is 21:02:08 UTC the day before
    assert rows.select("indicator", "time", "value", "tz_offset_s").rows() == [
        ("heart_rate", _at("2022-09-11T21:02:08+00:00"), 63.0, 10800),
        ("heart_rate", _at("2022-09-11T21:07:08+00:00"), 62.0, 10800),
    ]
    assert set(rows["source"]) == {"polar.continuous"}


def test_continuous_heart_rate_falls_back_to_the_nearest_exercise_then_to_utc(fmt):
    near = _of(
        fmt.rows("polar", [("continuous-heart-rate", CHR), ("exercises", EXERCISE)]),
        "continuous-heart-rate",
    )
    assert near["time"][0] == _at("2022-09-11T22:02:08+00:00")  # +02:00, two days before
    alone = fmt.rows("polar", [("continuous-heart-rate", CHR)])
    assert alone["time"][0] == _at("2022-09-12T00:02:08+00:00")
    assert set(alone["tz_offset_s"]) == {0}


def test_nightly_skin_temperature_is_dated_at_the_sleep_end(fmt):
    rows = _of(
        fmt.rows("polar", [("skin-temperature", SKIN), ("sleep", SLEEP)]), "skin-temperature"
    )
    v = dict(zip(rows["indicator"], rows["value"], strict=True))
    assert v == {"skin_temperature": 36.5, "skin_temperature_deviation": 0.5}
    assert set(rows["time"]) == {_at("2022-09-12T07:04:11+03:00")}
    assert set(rows["tz_offset_s"]) == {10800}
    alone = fmt.rows("polar", [("skin-temperature", SKIN)])
    assert set(alone["time"]) == {_at("2022-09-12T00:00:00+00:00")}


def test_body_temperature_samples_by_measurement_type(fmt):
    skin = BODY | {
        "measurement_type": "TM_SKIN_TEMPERATURE",
        "start_time": "2023-10-20T06:00:00",
        "samples": [{"temperature_celsius": 33.9, "recording_time_delta_milliseconds": 0}],
    }
    unknown = BODY | {"measurement_type": "TM_UNKNOWN", "start_time": "2023-10-20T08:00:00"}
    rows = fmt.rows(
        "polar",
        [("body-temperature", BODY), ("body-temperature", skin), ("body-temperature", unknown)],
    ).sort("time")
    assert rows.select("indicator", "time", "value").rows() == [
        ("body_temperature", _at("2023-10-20T04:00:00.123+00:00"), 36.5),
        ("body_temperature", _at("2023-10-20T04:01:00+00:00"), 36.7),
        ("skin_temperature", _at("2023-10-20T06:00:00+00:00"), 33.9),
    ]


def test_spo2_test_gives_spo2_and_heart_rate_at_the_test_time(fmt):
    v = fmt.values("polar", "spo2", SPO2)
    assert v == {"spo2": 95, "heart_rate": 60}
    row = fmt.rows("polar", [("spo2", SPO2)]).row(0, named=True)
    assert row["time"] == datetime.fromtimestamp(1697787256, UTC)
    assert row["tz_offset_s"] == 180 * 60
    failed = SPO2 | {
        "test_status": "SPO2_TEST_INCONCLUSIVE_TOO_LOW_OVERALL_QUALITY",
        "blood_oxygen_percent": 0,
    }
    assert fmt.rows("polar", [("spo2", failed)]).height == 0


def test_ecg_test_gives_its_average_heart_rate_only(fmt):
    assert fmt.values("polar", "ecg", ECG) == {"heart_rate": 60}


DOCUMENTED = {
    "continuous-heart-rate": "polar_user date heart_rate_samples",
    "skin-temperature": "sleep_time_skin_temperature_celsius deviation_from_baseline_celsius "
    "sleep_date",
    "body-temperature": "source_device_id measurement_type sensor_location start_time end_time "
    "modified_time samples",
    "spo2": "source_device_id test_time time_zone_offset test_status blood_oxygen_percent "
    "spo2_class spo2_value_deviation_from_baseline spo2_quality_average_percent "
    "average_heart_rate_bpm heart_rate_variability_ms spo2_hrv_deviation_from_baseline "
    "altitude_meters",
    "ecg": "source_device_id test_time time_zone_offset average_heart_rate_bpm "
    "heart_rate_variability_ms heart_rate_variability_level rri_ms "
    "pulse_transit_time_systolic_ms pulse_transit_time_diastolic_ms "
    "pulse_transit_time_quality_index samples quality_measurements",
}


@pytest.mark.parametrize("record_type", sorted(DOCUMENTED))
def test_documented_fields_are_mapped_or_ignored(fmt, coverage, record_type):
    mapping = fmt.provider("polar").mappings[record_type]
    doc = dict.fromkeys(DOCUMENTED[record_type].split(), 0)
    assert coverage(mapping.known_paths(), doc) == set()
    assert all(mapping.ignored.values())


def test_ranges_are_cut_at_28_days():
    assert ranges(date(2025, 1, 1), date(2025, 2, 10)) == [
        (date(2025, 1, 1), date(2025, 1, 28)),
        (date(2025, 1, 29), date(2025, 2, 10)),
    ]
    assert ranges(date(2025, 1, 1), date(2025, 1, 1)) == [(date(2025, 1, 1), date(2025, 1, 1))]


# --- the sandbox over real HTTP -------------------------------------------------------------
SIX_WEEKS = Window.for_days(date(2025, 1, 10), date(2025, 2, 20))  # two ranges of <= 28 days
NEW_TYPES = ("continuous-heart-rate", "body-temperature", "skin-temperature", "spo2", "ecg")


@pytest.mark.anyio
async def test_new_types_are_pulled_in_28_day_ranges_and_format_cleanly(link, registry, sandbox):
    polar = registry.get("polar")
    connection = await link(polar)
    state = sandbox.cloud["polar"]
    before = state.requests
    raw = await polar.pull(
        connection, SIX_WEEKS, MemoryTokenStore(), record_types=(*NEW_TYPES, "sleep")
    )
    assert state.requests - before == 2 * len(NEW_TYPES) + 1  # the sandbox refuses > 28 days
    assert set(raw["record_type"]) == {*NEW_TYPES, "sleep"}
    person = PERSONS["ada"]
    worn = [d for d in SIX_WEEKS.days() if day_truth(person, d).activity is not None]
    assert raw.filter(pl.col("record_type") == "continuous-heart-rate").height == len(worn)
    formatted = polar.format_split(raw)
    assert formatted.quarantine.height == 0
    chr_rows = formatted.values.filter(pl.col("source") == "polar.continuous")
    assert chr_rows.height == 288 * len(worn)
    # the offset came from the sleeps: every sample is the truth at its UTC instant
    for when, value, offset in chr_rows.select("time", "value", "tz_offset_s").rows()[::97]:
        assert value == heart_rate(person, int(when.timestamp())) and offset == 3600
    # inconclusive SpO2 tests are skipped, passed ones kept
    spo2 = formatted.values.filter(pl.col("indicator") == "spo2")
    assert spo2.height > 0 and spo2["value"].min() >= 90


@pytest.mark.anyio
async def test_an_empty_range_is_a_204_and_yields_nothing(link, registry):
    polar = registry.get("polar")
    connection = await link(polar)
    future = Window.for_days(date(2025, 3, 1), date(2025, 3, 5))
    raw = await polar.pull(
        connection, future, MemoryTokenStore(), record_types=("body-temperature", "spo2")
    )
    assert raw.height == 0


@pytest.mark.anyio
async def test_the_sandbox_refuses_more_than_28_days(link, registry):
    polar = registry.get("polar")
    connection = await link(polar)
    headers = {"Authorization": f"Bearer {connection.tokens.access_token}"}
    async with httpx.AsyncClient() as http:
        too_long = await http.get(
            polar.url("api") + "/users/biosensing/skintemperature",
            params={"from": "2025-01-01", "to": "2025-01-29"},
            headers=headers,
        )
        one_day = await http.get(
            polar.url("api") + "/users/continuous-heart-rate/2025-02-12", headers=headers
        )
    assert too_long.status_code == 400
    assert one_day.status_code == 200 and one_day.json()["date"] == "2025-02-12"


def test_a_continuous_heart_rate_webhook_asks_for_that_day(registry):
    from providers.sandbox.polar import webhook

    headers, body = webhook(PERSONS["ada"], "CONTINUOUS_HEART_RATE", "2025-02-12")
    requests = registry.get("polar").parse_webhook(headers, body)
    assert [(r.record_type, r.day) for r in requests] == [
        ("continuous-heart-rate", date(2025, 2, 12))
    ]
