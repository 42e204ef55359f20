"""Withings workouts and intraday activity: golden formatting on payloads written from the
notes (section 5) and the OpenAPI spec, with values worked by hand; documented fields; and
the sandbox over real HTTP (paging, 24 h intraday windows)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import polars as pl
import pytest

from indicators.aggregate import daily_summary
from indicators.quarantine import split_valid
from providers.sandbox.physiology import PERSONS, day_truth, heart_rate
from providers.types import MemoryTokenStore, Window
from providers.withings.intraday import INTRADAY_IGNORED, INTRADAY_SAMPLES
from tests.support.documents import nested

WORKOUT = {
    "id": 12345,
    "category": 2,
    "timezone": "Europe/Paris",
    "model": 59,
    "attrib": 7,
    "startdate": 1594245600,
    "enddate": 1594257200,
    "date": "2020-07-09",
    "modified": 1594257200,
    "deviceid": "892359876fd8805ac45bab078c4828692f0276b1",
    "data": {
        "calories": 520,
        "intensity": 0,
        "manual_intensity": 0,
        "manual_distance": 0,
        "manual_calories": 0,
        "hr_average": 142,
        "hr_min": 88,
        "hr_max": 171,
        "hr_zone_0": 600,
        "hr_zone_1": 2400,
        "hr_zone_2": 6000,
        "hr_zone_3": 2600,
        "pause_duration": 0,
        "algo_pause_duration": 0,
        "spo2_average": 97,
        "steps": 14200,
        "distance": 10120,
        "elevation": 3,
        "pool_laps": 0,
        "pool_length": 0,
        "strokes": 0,
        "core_body_temperature_avg": 38,
        "core_body_temperature_min": 37,
        "core_body_temperature_max": 39,
        "core_body_temperature_status": "usual",
    },
}
# 2025-03-11 00:00:00 UTC = 1741651200; Europe/Berlin is UTC+1 in March before the switch.
DAY0 = 1741651200
INTRADAY = {
    "startdate": DAY0,
    "enddate": DAY0 + 86399,
    "series": {
        str(DAY0 + 30600): {
            "deviceid": "892359876fd8",
            "model": "ScanWatch",
            "model_id": 93,
            "steps": 42,
            "elevation": 0,
            "calories": 1.2,
            "distance": 30.5,
            "duration": 60,
            "heart_rate": 71,
        },
        str(DAY0 + 7200): {
            "deviceid": "892359876fd8",
            "model": "ScanWatch",
            "model_id": 93,
            "heart_rate": 55,
            "spo2_auto": 96.5,
            "rmssd": 48,
            "sdnn1": 61,
            "hrv_quality": 3,
            "rr": 14,
            "chest_movement_rate": 15,
            "core_body_temperature": 36.4,
            "stroke": 0,
            "pool_lap": 0,
        },
    },
}
ACTIVITY = {
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


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def test_workout_maps_duration_energy_distance_and_heart_rate(fmt):
    rows = fmt.rows("withings", [("workouts", WORKOUT)])
    v = dict(zip(rows["indicator"], rows["value"], strict=True))
    assert v == {
        "workout_duration": pytest.approx(11600 / 60),  # enddate - startdate
        "workout_energy": 520,
        "workout_distance": 10120,
        "workout_average_heart_rate": 142,
        "workout_max_heart_rate": 171,
    }
    row = rows.row(0, named=True)
    assert row["time"] == _utc(1594245600) and row["end_time"] == _utc(1594257200)
    assert row["tz_offset_s"] == 7200  # Paris in July
    assert row["record_id"] == "12345"


def test_a_hand_logged_workout_uses_the_manual_values(fmt):
    doc = WORKOUT | {"data": {"manual_distance": 5000, "manual_calories": 300, "intensity": 40}}
    v = fmt.values("withings", "workouts", doc)
    assert v == {
        "workout_duration": pytest.approx(11600 / 60),
        "workout_energy": 300,
        "workout_distance": 5000,
    }


def test_workout_elevation_is_floors_and_not_mapped_as_metres(fmt):
    mapping = fmt.provider("withings").mappings["workouts"]
    assert "floors" in mapping.ignored["data.elevation"]
    assert "workout_elevation_gain" not in {f.indicator for f in mapping.fields}


def test_intraday_samples_with_the_zone_of_the_same_days_activity(fmt):
    rows = fmt.rows("withings", [("intraday", INTRADAY), ("activity", ACTIVITY)])
    intraday = rows.filter(pl.col("record_id") == "intraday:2025-03-11").sort("time", "indicator")
    assert intraday.select("indicator", "time", "value").rows() == [
        ("heart_rate", _utc(DAY0 + 7200), 55.0),
        ("hrv_rmssd", _utc(DAY0 + 7200), 48.0),
        ("hrv_sdnn", _utc(DAY0 + 7200), 61.0),
        ("respiratory_rate", _utc(DAY0 + 7200), 14.0),
        ("spo2", _utc(DAY0 + 7200), 96.5),
        ("heart_rate", _utc(DAY0 + 30600), 71.0),
    ]
    assert set(intraday["tz_offset_s"]) == {3600}
    assert intraday["end_time"].null_count() == intraday.height
    assert set(intraday["source"]) == {"withings"}


def test_intraday_without_a_zoned_record_is_in_utc(fmt):
    rows = fmt.rows("withings", [("intraday", INTRADAY)])
    assert rows.height == 6 and set(rows["tz_offset_s"]) == {0}


def test_intraday_counts_do_not_add_to_the_daily_totals(fmt):
    """Epoch steps/distance/calories are not mapped: the day's sums are the activity's."""
    rows = fmt.rows("withings", [("intraday", INTRADAY), ("activity", ACTIVITY)])
    valid, quarantine = split_valid(rows)
    assert quarantine.height == 0
    day = daily_summary(valid).filter(pl.col("day") == date(2025, 3, 11))
    v = dict(zip(day["indicator"], day["value"], strict=True))
    assert v["steps"] == 11342 and v["distance"] == pytest.approx(8712.4)
    assert v["active_energy"] == pytest.approx(598.2) and v["floors_climbed"] == 9
    assert v["heart_rate"] == pytest.approx((55 + 71) / 2)


WORKOUT_FIELDS = (
    "id category timezone model attrib startdate enddate date modified deviceid "
    "data.calories data.intensity data.manual_intensity data.manual_distance "
    "data.manual_calories data.hr_average data.hr_min data.hr_max "
    "data.hr_zone_0 data.hr_zone_1 data.hr_zone_2 data.hr_zone_3 "
    "data.pause_duration data.algo_pause_duration data.spo2_average data.steps "
    "data.distance data.elevation data.pool_laps data.pool_length data.strokes "
    "data.core_body_temperature_avg data.core_body_temperature_min "
    "data.core_body_temperature_max data.core_body_temperature_status"
)
INTRADAY_ENTRY_FIELDS = (
    "deviceid model model_id steps elevation calories distance stroke "
    "pool_lap duration heart_rate spo2_auto rmssd sdnn1 hrv_quality "
    "core_body_temperature rr chest_movement_rate"
)


def test_documented_workout_fields_are_mapped_or_ignored(fmt, coverage):
    mapping = fmt.provider("withings").mappings["workouts"]
    assert coverage(mapping.known_paths(), nested(WORKOUT_FIELDS)) == set()
    assert all(mapping.ignored.values())


def test_documented_intraday_fields_are_mapped_or_ignored(fmt):
    fields = set(INTRADAY_ENTRY_FIELDS.split())
    assert fields - set(INTRADAY_SAMPLES) - set(INTRADAY_IGNORED) == set()
    assert set(INTRADAY_SAMPLES) & set(INTRADAY_IGNORED) == set()
    assert all(INTRADAY_IGNORED.values())
    ignored = fmt.provider("withings").mappings["intraday"].ignored
    assert all(f"series.<epoch>.{k}" in ignored for k in INTRADAY_IGNORED)


# --- the sandbox over real HTTP -------------------------------------------------------------
MONTH = Window.for_days(date(2025, 1, 20), date(2025, 2, 19))


@pytest.mark.anyio
async def test_workouts_are_paged_to_the_end(link, registry):
    withings = registry.get("withings")
    connection = await link(withings)
    raw = await withings.pull(connection, MONTH, MemoryTokenStore(), record_types=("workouts",))
    days = MONTH.days()
    expected = sum(1 for d in days if day_truth(PERSONS["ada"], d).workout is not None)
    assert raw.height == expected > 10  # pages of 10
    assert raw["vendor_id"].n_unique() == raw.height
    formatted = withings.format_split(raw)
    assert formatted.quarantine.height == 0
    assert formatted.values.filter(pl.col("indicator") == "workout_duration").height == expected


@pytest.mark.anyio
async def test_intraday_is_pulled_one_utc_day_per_call(link, registry, sandbox):
    withings = registry.get("withings")
    connection = await link(withings)
    window = Window(datetime(2025, 2, 10, 13, tzinfo=UTC), datetime(2025, 2, 12, 9, tzinfo=UTC))
    state = sandbox.cloud["withings"]
    before = state.requests
    raw = await withings.pull(connection, window, MemoryTokenStore(), record_types=("intraday",))
    assert state.requests - before == 3  # 10, 11 and 12 February, whole days
    assert sorted(raw["vendor_id"]) == [f"intraday:2025-02-{d}" for d in (10, 11, 12)]
    formatted = withings.format_split(raw)
    assert formatted.quarantine.height == 0
    hr = formatted.values.filter(pl.col("indicator") == "heart_rate")
    person = PERSONS["ada"]
    for when, value in hr.select("time", "value").head(50).rows():
        assert value == heart_rate(person, int(when.timestamp()))
    assert hr.height >= 3 * 140  # 10-min epochs
    assert {"spo2", "hrv_rmssd", "hrv_sdnn"} <= set(formatted.values["indicator"])


@pytest.mark.anyio
async def test_the_sandbox_answers_only_the_first_24_hours(link, registry, sandbox):
    withings = registry.get("withings")
    connection = await link(withings)
    start = int(datetime(2025, 2, 10, tzinfo=UTC).timestamp())
    async with httpx.AsyncClient() as http:
        response = await http.post(
            withings.url("measure_v2"),
            headers={"Authorization": f"Bearer {connection.tokens.access_token}"},
            data={
                "action": "getintradayactivity",
                "startdate": start,
                "enddate": start + 2 * 86400,
                "data_fields": "heart_rate,steps",
            },
        )
    doc = response.json()
    assert doc["status"] == 0
    stamps = [int(k) for k in doc["body"]["series"]]
    assert min(stamps) >= start and max(stamps) < start + 86400
    entry = doc["body"]["series"][str(max(stamps))]
    assert set(entry) <= {"deviceid", "model", "model_id", "heart_rate", "steps"}


@pytest.mark.anyio
async def test_an_activity_notification_pulls_workouts_and_intraday_too(registry):
    from providers.sandbox.withings import notification

    start = int(datetime(2025, 2, 10, tzinfo=UTC).timestamp())
    headers, body = notification(PERSONS["ada"], 16, start, start + 3600)
    requests = registry.get("withings").parse_webhook(headers, body)
    assert {r.record_type for r in requests} == {"activity", "workouts", "intraday"}
    assert requests[0].window is not None
    assert requests[0].window.end - requests[0].window.start == timedelta(seconds=3601)
