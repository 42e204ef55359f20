"""Garmin epochs, blood pressure, Health Snapshots and naps: golden values worked by hand from
the vendor notes, the notes' field lists covered, and the sandbox's answers over real HTTP."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import polars as pl
import pytest

from indicators.aggregate import daily_summary
from providers.garmin.mapping import MAPPINGS
from providers.types import MemoryTokenStore, Window

UID = "4aacafe82427c251df9c9592d0c06768"
TODAY = date(2025, 2, 20)


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# --- golden: epochs ----------------------------------------------------------------------
# The notes' epoch (one per activity type and bucket) and the same bucket's sedentary part.
WALK = {
    "userId": UID,
    "summaryId": "x153a9f3-5a9478d4-6",
    "activityType": "WALKING",
    "activeKilocalories": 24,
    "steps": 93,
    "distanceInMeters": 49.11,
    "durationInSeconds": 840,
    "activeTimeInSeconds": 449,
    "startTimeInSeconds": 1519679700,
    "startTimeOffsetInSeconds": -21600,
    "met": 3.3020337,
    "intensity": "ACTIVE",
    "meanMotionIntensity": 4,
    "maxMotionIntensity": 7,
}
SIT = WALK | {
    "summaryId": "x153a9f3-5a9478d4-7",
    "activityType": "SEDENTARY",
    "activeKilocalories": 1,
    "steps": 0,
    "distanceInMeters": 0.0,
    "durationInSeconds": 60,
    "activeTimeInSeconds": 0,
    "met": 1.0,
    "intensity": "SEDENTARY",
    "meanMotionIntensity": 0,
    "maxMotionIntensity": 1,
}
NEXT = WALK | {
    "summaryId": "x153a9f3-5a9478d4-8",
    "startTimeInSeconds": 1519679700 + 900,
    "steps": 410,
    "distanceInMeters": 300.5,
    "activeKilocalories": 30,
    "durationInSeconds": 900,
}


def test_an_epochs_activity_type_parts_make_one_15_minute_bucket(fmt):
    rows = fmt.rows("garmin", [("epochs", WALK), ("epochs", SIT), ("epochs", NEXT)])
    assert set(rows["source"]) == {"garmin.epochs"}
    first = rows.filter(pl.col("time") == at(1519679700))
    v = dict(zip(first["indicator"], first["value"], strict=True))
    assert v == {"steps": 93.0, "distance": 49.11, "active_energy": 25.0}  # 24 + 1 kcal
    assert set(first["end_time"]) == {at(1519679700 + 900)}  # 840 s walking + 60 s sitting
    assert set(first["record_id"]) == {"x153a9f3-5a9478d4-6,x153a9f3-5a9478d4-7"}
    assert set(first["tz_offset_s"]) == {-21600}
    # 1519679700 is 2018-02-26T21:15Z, 15:15 local (-06:00)
    assert first["time"][0] == datetime(2018, 2, 26, 21, 15, tzinfo=UTC)


def test_an_epoch_delivered_twice_counts_once(fmt):
    rows = fmt.rows("garmin", [("epochs", WALK), ("epochs", WALK), ("epochs", SIT)])
    steps = rows.filter(pl.col("indicator") == "steps")
    assert steps["value"].to_list() == [93.0]


DAILY = {
    "userId": UID,
    "summaryId": "d1",
    "calendarDate": "2018-02-26",
    "startTimeInSeconds": 1519624800,
    "startTimeOffsetInSeconds": -21600,
    "durationInSeconds": 86400,
    "steps": 503,
    "distanceInMeters": 349.61,
    "activeKilocalories": 55,
    "bmrKilocalories": 1700,
}


def test_a_days_steps_come_from_the_dailies_or_the_epochs_never_both(fmt):
    """The epochs of the day sum to the daily summary (93 + 410 = 503 steps): each source
    rolls up on its own and one wins the merge, so the day shows 503, not 1006."""
    rows = fmt.rows(
        "garmin", [("dailies", DAILY), ("epochs", WALK), ("epochs", SIT), ("epochs", NEXT)]
    )
    summary = daily_summary(rows).filter(
        pl.col("indicator").is_in(["steps", "distance", "active_energy"])
    )
    by = {r["indicator"]: r for r in summary.iter_rows(named=True)}
    assert by["steps"]["value"] == 503 and by["steps"]["sources"] == "garmin,garmin.epochs"
    assert by["distance"]["value"] == pytest.approx(349.61)
    assert by["active_energy"]["value"] == 55
    assert set(summary["day"]) == {date(2018, 2, 26)}


# --- golden: blood pressure ----------------------------------------------------------------
BP = {
    "userId": UID,
    "summaryId": "x3a1b2c4-bp1",
    "measurementTimeInSeconds": 1741687312,
    "measurementTimeOffsetInSeconds": 3600,
    "systolic": 121,
    "diastolic": 79,
    "pulse": 62,
    "sourceType": "DEVICE",
}


def test_blood_pressure_with_its_pulse_on_the_cuffs_source(fmt):
    rows = fmt.rows("garmin", [("bloodPressures", BP)])
    v = dict(zip(rows["indicator"], rows["value"], strict=True))
    assert v == {
        "blood_pressure_systolic": 121.0,
        "blood_pressure_diastolic": 79.0,
        "heart_rate": 62.0,
    }
    assert set(rows["source"]) == {"garmin.bp_monitor"} and set(rows["unit"]) == {"mm[Hg]", "/min"}
    assert set(rows["time"]) == {at(1741687312)} and set(rows["tz_offset_s"]) == {3600}
    manual = fmt.rows("garmin", [("bloodPressures", BP | {"sourceType": "MANUAL"})])
    assert set(manual["source"]) == {"garmin.manual"}


def test_a_cuff_pulse_at_the_instant_of_a_watch_sample_is_not_a_duplicate(fmt):
    day = {
        "userId": UID,
        "summaryId": "d2",
        "calendarDate": "2025-03-11",
        "startTimeInSeconds": 1741687312 - 15,
        "startTimeOffsetInSeconds": 3600,
        "durationInSeconds": 86400,
        "steps": 1,
        "timeOffsetHeartRateSamples": {"15": 60},
    }
    formatted = fmt.provider("garmin").format_split(
        fmt.raw("garmin", [("dailies", day), ("bloodPressures", BP)])
    )
    assert formatted.quarantine.height == 0
    hr = formatted.values.filter(pl.col("indicator") == "heart_rate")
    assert sorted(hr["source"]) == ["garmin", "garmin.bp_monitor"]


# --- golden: Health Snapshot ---------------------------------------------------------------
def _summary(kind: str, avg: float) -> dict[str, object]:
    return {
        "summaryType": kind,
        "minValue": avg - 3,
        "maxValue": avg + 3,
        "avgValue": avg,
        "epochSummaries": {"0": avg - 1, "60": avg + 1},
    }


SNAPSHOT = {
    "userId": UID,
    "summaryId": "x3a1b2c4-hs1",
    "calendarDate": "2025-03-11",
    "startTimeInSeconds": 1741687312,
    "durationInSeconds": 120,
    "summaries": [
        _summary("heart_rate", 64.5),
        _summary("stress", 31.0),
        _summary("spo2", 97.0),
        _summary("respiration", 15.5),
        _summary("sdrr_hrv", 55.0),
        _summary("rmssd_hrv", 41.0),
    ],
}


def test_a_snapshots_averages_are_samples_at_its_start(fmt):
    rows = fmt.rows("garmin", [("healthSnapshot", SNAPSHOT)])
    v = dict(zip(rows["indicator"], rows["value"], strict=True))
    assert v == {
        "heart_rate": 64.5,
        "stress_level": 31.0,
        "spo2": 97.0,
        "respiratory_rate": 15.5,
        "hrv_sdnn": 55.0,
        "hrv_rmssd": 41.0,
    }
    assert set(rows["time"]) == {at(1741687312)} and rows["end_time"].null_count() == 6
    assert set(rows["source"]) == {"garmin.snapshot"} and set(rows["record_id"]) == {"x3a1b2c4-hs1"}
    # no offset field: 10:01 UTC is on 2025-03-11 at offset 0, the nearest to 0 that fits
    assert set(rows["tz_offset_s"]) == {0}


def test_a_snapshots_offset_when_sent_and_when_only_the_date_tells(fmt):
    sent = fmt.rows("garmin", [("healthSnapshot", SNAPSHOT | {"startTimeOffsetInSeconds": 3600})])
    assert set(sent["tz_offset_s"]) == {3600}
    # 2025-03-12T03:00Z dated 2025-03-11: at least 3 h 1 s behind UTC, so -10801 s
    evening = SNAPSHOT | {"startTimeInSeconds": 1741748400}
    rows = fmt.rows("garmin", [("healthSnapshot", evening)])
    assert set(rows["tz_offset_s"]) == {-(3 * 3600 + 1)}
    assert set(daily_summary(rows)["day"]) == {date(2025, 3, 11)}


def test_unmeasured_and_unknown_snapshot_types_are_left_out(fmt):
    odd = SNAPSHOT | {
        "summaries": [
            _summary("stress", -1.0),
            _summary("heart_rate", 61.0),
            _summary("body_battery_new", 40.0),
        ]
    }
    rows = fmt.rows("garmin", [("healthSnapshot", odd)])
    assert rows["indicator"].to_list() == ["heart_rate"]


# --- golden: naps ----------------------------------------------------------------------------
SLEEP = {
    "userId": UID,
    "summaryId": "x3a1b2c4-67cfc6e0-6e28",
    "calendarDate": "2025-03-11",
    "startTimeInSeconds": 1741644000,
    "startTimeOffsetInSeconds": 3600,
    "durationInSeconds": 28200,
    "deepSleepDurationInSeconds": 5340,
    "lightSleepDurationInSeconds": 15180,
    "remSleepInSeconds": 6060,
    "awakeDurationInSeconds": 1620,
    "validation": "ENHANCED_FINAL",
    "totalNapDurationInSeconds": 2700,
    "naps": [
        {
            "napStartTimeInSeconds": 1741701600,
            "napOffsetInSeconds": 3600,
            "napDurationInSeconds": 1800,
            "napValidation": "DEVICE",
        },
        {
            "napStartTimeInSeconds": 1741712400,
            "napDurationInSeconds": 900,
            "napValidation": "MANUAL",
        },
    ],
}


def test_naps_are_sessions_of_their_own_and_leave_the_night_alone(fmt):
    rows = fmt.rows("garmin", [("sleeps", SLEEP)])
    naps = rows.filter(pl.col("indicator") == "nap_duration").sort("time")
    assert naps["value"].to_list() == [30.0, 15.0]
    assert naps["time"].to_list() == [at(1741701600), at(1741712400)]  # 14:00, 17:00 local
    assert naps["end_time"].to_list() == [at(1741703400), at(1741713300)]
    assert naps["tz_offset_s"].to_list() == [3600, 3600]  # the second from the night's offset
    night = rows.filter(pl.col("indicator") != "nap_duration")
    v = dict(zip(night["indicator"], night["value"], strict=True))
    assert v["sleep_duration_asleep"] == 443.0 and v["sleep_duration_in_bed"] == 470.0
    summary = daily_summary(rows)
    day = {r["indicator"]: r["value"] for r in summary.iter_rows(named=True)}
    assert (day["sleep_duration_asleep"], day["nap_duration"]) == (443.0, 45.0)
    assert set(summary["day"]) == {date(2025, 3, 11)}


# --- the notes' field lists ------------------------------------------------------------------
DOCUMENTED = {
    "epochs": "summaryId startTimeInSeconds startTimeOffsetInSeconds activityType "
    "durationInSeconds activeTimeInSeconds steps distanceInMeters activeKilocalories met "
    "intensity meanMotionIntensity maxMotionIntensity",
    "bloodPressures": "summaryId measurementTimeInSeconds measurementTimeOffsetInSeconds "
    "systolic diastolic pulse sourceType",
    "healthSnapshot": "summaryId calendarDate startTimeInSeconds durationInSeconds summaries",
    "sleeps": "naps totalNapDurationInSeconds",
}
LISTED = {
    ("healthSnapshot", "summaries"): "summaryType minValue maxValue avgValue epochSummaries",
    ("sleeps", "naps"): "napDurationInSeconds napStartTimeInSeconds napOffsetInSeconds "
    "napValidation",
}


@pytest.mark.parametrize("record_type", sorted(DOCUMENTED))
def test_documented_fields_are_mapped_or_ignored(coverage, record_type):
    mapping = MAPPINGS[record_type]
    doc = dict.fromkeys([*DOCUMENTED[record_type].split(), "userId"], 0)
    assert coverage(mapping.known_paths(), doc) == set()
    assert all(reason for reason in mapping.ignored.values())


@pytest.mark.parametrize(("record_type", "path"), sorted(LISTED))
def test_every_field_of_a_listed_item_is_decoded_or_ignored(record_type, path):
    mapping = MAPPINGS[record_type]
    item = mapping.paths[path]
    assert isinstance(item, pl.List) and isinstance(item.inner, pl.Struct)
    decoded = {f.name for f in item.inner.fields}
    ignored = {k.removeprefix(path + ".") for k in mapping.ignored if k.startswith(path + ".")}
    assert set(LISTED[record_type, path].split()) - decoded - ignored == set()


# --- webhooks ----------------------------------------------------------------------------------
def test_pushed_summaries_become_one_sync_request_per_user_type_and_local_day(fmt):
    provider = fmt.provider("garmin")
    late = WALK | {"summaryId": "e9", "startTimeInSeconds": 1519624800 + 86400 + 3600}
    body = json.dumps(
        {"epochs": [WALK, SIT, NEXT, late], "bloodPressures": [BP], "healthSnapshot": [SNAPSHOT]}
    ).encode()
    requests = provider.parse_webhook({"garmin-client-id": "id"}, body)
    seen = sorted((r.record_type, r.day, r.object_id) for r in requests)
    assert seen == [
        ("bloodPressures", date(2025, 3, 11), BP["summaryId"]),
        ("epochs", date(2018, 2, 26), None),
        ("epochs", date(2018, 2, 27), "e9"),
        ("healthSnapshot", date(2025, 3, 11), SNAPSHOT["summaryId"]),
    ]
    assert {(r.vendor_user_id, r.event) for r in requests} == {(UID, "push")}


# --- the sandbox over real HTTP ----------------------------------------------------------------


@pytest.mark.anyio
async def test_the_sandboxs_epochs_add_up_to_its_dailies(registry, link):
    provider = registry.get("garmin")
    connection = await link(provider, connection_id="epochs")
    window = Window.for_days(date(2025, 2, 3), date(2025, 2, 9))
    raw = await provider.pull(
        connection, window, MemoryTokenStore(), record_types=("dailies", "epochs")
    )
    formatted = provider.format_split(raw)
    assert formatted.quarantine.height == 0
    values = formatted.values.filter(
        pl.col("indicator").is_in(["steps", "distance", "active_energy"])
    )
    from indicators.aggregate import per_source_daily

    per_day = (
        per_source_daily(values)
        .collect()
        .pivot("source", index=["day", "indicator"], values="value")
        .drop_nulls()
    )
    assert per_day.height >= 3 * 6  # every full day of the week, three indicators
    assert (per_day["garmin"] - per_day["garmin.epochs"]).abs().max() < 1e-6
    kinds = (
        raw.filter(pl.col("record_type") == "epochs")["payload"]
        .str.json_decode(pl.Struct({"activityType": pl.String()}))
        .struct.field("activityType")
    )
    assert {"SEDENTARY", "WALKING"} <= set(kinds)


@pytest.mark.anyio
async def test_the_sandbox_serves_blood_pressure_snapshots_and_naps(registry, link):
    provider = registry.get("garmin")
    connection = await link(provider, connection_id="more")
    window = Window.for_days(date(2025, 2, 3), date(2025, 2, 16))  # two weekends
    raw = await provider.pull(
        connection,
        window,
        MemoryTokenStore(),
        record_types=("bloodPressures", "healthSnapshot", "sleeps"),
    )
    formatted = provider.format_split(raw)
    assert formatted.quarantine.height == 0
    got = formatted.values.group_by("indicator", "source").len()
    pairs = set(zip(got["indicator"], got["source"], strict=True))
    assert {
        ("blood_pressure_systolic", "garmin.bp_monitor"),
        ("hrv_sdnn", "garmin.snapshot"),
        ("nap_duration", "garmin"),
        ("blood_pressure_diastolic", "garmin.manual"),
    } <= pairs
