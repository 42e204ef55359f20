"""Documented fields with a catalogue home that were ignored: golden tests on documents written
from the vendor notes and specs, values and times worked by hand. A series keyed by an offset
or a clock time is placed at its start + the offset, with the record's own UTC offset."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from indicators.aggregate import daily_summary
from indicators.quarantine import split_valid


def epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC)


def samples(rows: pl.DataFrame, indicator: str) -> list[tuple]:
    return (
        rows.filter(pl.col("indicator") == indicator)
        .sort("time")
        .select("time", "value", "tz_offset_s", "source")
        .rows()
    )


# The fields: each must be read by its mapping, not listed as ignored.
NOW_MAPPED = [
    ("garmin", "dailies", "averageStressLevel"),
    ("garmin", "sleeps", "timeOffsetSleepSpo2"),
    ("garmin", "sleeps", "timeOffsetSleepRespiration"),
    ("oura", "sleep", "heart_rate"),
    ("oura", "sleep", "hrv"),
    ("polar", "sleep", "total_interruption_duration"),
    ("polar", "nightly-recharge", "hrv_samples"),
    ("polar", "nightly-recharge", "breathing_samples"),
    ("withings", "sleep", "data.rmssd_start_avg"),
    ("withings", "sleep", "data.rmssd_end_avg"),
    ("withings", "sleep", "data.asleepduration"),
]


@pytest.mark.parametrize(("slug", "record_type", "path"), NOW_MAPPED)
def test_the_fields_found_missing_are_mapped_not_ignored(fmt, slug, record_type, path):
    mapping = fmt.provider(slug).mappings[record_type]
    read = {p for p in mapping.known_paths() if p not in mapping.ignored}
    assert any(p == path or p.startswith(path + ".") for p in read)
    assert not any(p == path or p.startswith(path + ".") for p in mapping.ignored)


def test_withings_activity_device_fields_are_known(fmt):
    ignored = fmt.provider("withings").mappings["activity"].ignored
    assert ignored["model"] and ignored["modelid"]


# --- Garmin ----------------------------------------------------------------------------------
KTM_START = "2025-03-10T22:40:00+05:45"  # 16:55 UTC
G_SLEEP = {
    "summaryId": "g-sleep",
    "calendarDate": "2025-03-11",
    "startTimeInSeconds": epoch(KTM_START),
    "startTimeOffsetInSeconds": 20700,
    "durationInSeconds": 27000,
    "deepSleepDurationInSeconds": 5340,
    "lightSleepDurationInSeconds": 15180,
    "remSleepInSeconds": 5000,
    "awakeDurationInSeconds": 1480,
    "timeOffsetSleepSpo2": {"0": 95, "60": 96, "3600": 94},
    "timeOffsetSleepRespiration": {"0": 14.0, "60": 13.5},
}
G_PULSEOX = {
    "summaryId": "g-ox",
    "calendarDate": "2025-03-11",
    "startTimeInSeconds": epoch(KTM_START),
    "startTimeOffsetInSeconds": 20700,
    "durationInSeconds": 27000,
    "timeOffsetSpo2Values": {"0": 95, "3600": 94},
}


def test_garmin_sleep_spo2_and_breathing_are_samples_at_start_plus_offset(fmt):
    rows = fmt.rows("garmin", [("sleeps", G_SLEEP)])
    night = 20700, "garmin.sleep"
    assert samples(rows, "spo2") == [
        (utc("2025-03-10T16:55:00Z"), 95.0, *night),
        (utc("2025-03-10T16:56:00Z"), 96.0, *night),
        (utc("2025-03-10T17:55:00Z"), 94.0, *night),
    ]
    assert samples(rows, "respiratory_rate") == [
        (utc("2025-03-10T16:55:00Z"), 14.0, *night),
        (utc("2025-03-10T16:56:00Z"), 13.5, *night),
    ]


def test_garmin_sleep_spo2_and_the_pulseox_summary_of_one_instant_both_stay_valid(fmt):
    rows = fmt.rows("garmin", [("sleeps", G_SLEEP), ("pulseox", G_PULSEOX)])
    valid, quarantine = split_valid(rows)
    assert quarantine.height == 0  # one instant, two sources: no duplicate key
    day = (
        daily_summary(valid)
        .filter((pl.col("day") == date(2025, 3, 10)) & (pl.col("indicator") == "spo2"))
        .row(0, named=True)
    )
    assert (day["value"], day["source"]) == (pytest.approx(95.0), "garmin.sleep")


DAILY = {
    "summaryId": "g-day",
    "calendarDate": "2025-06-02",
    "startTimeInSeconds": epoch("2025-06-02T00:00:00-09:30"),
    "startTimeOffsetInSeconds": -34200,
    "durationInSeconds": 86400,
    "steps": 9000,
    "averageStressLevel": 29,
    "maxStressLevel": 91,
}
STRESS = {
    "summaryId": "g-stress",
    "calendarDate": "2025-06-02",
    "startTimeInSeconds": epoch("2025-06-02T00:00:00-09:30"),
    "startTimeOffsetInSeconds": -34200,
    "durationInSeconds": 86400,
    "timeOffsetStressLevelValues": {"0": 20, "180": -1, "360": 40},
}


def test_garmin_daily_average_stress_is_a_stress_level_over_the_day(fmt):
    rows = fmt.rows("garmin", [("dailies", DAILY)]).filter(pl.col("indicator") == "stress_level")
    assert rows.select("time", "end_time", "tz_offset_s", "value", "source").rows() == [
        (utc("2025-06-02T09:30:00Z"), utc("2025-06-03T09:30:00Z"), -34200, 29.0, "garmin.daily")
    ]
    unmeasured = DAILY | {"averageStressLevel": -1}
    assert (
        fmt.rows("garmin", [("dailies", unmeasured)])
        .filter(pl.col("indicator") == "stress_level")
        .height
        == 0
    )


def test_garmin_daily_stress_is_the_readings_mean_when_they_came_else_the_average(fmt):
    both = split_valid(fmt.rows("garmin", [("dailies", DAILY), ("stressDetails", STRESS)]))
    assert both[1].height == 0  # the average and the first reading share an instant
    stress = daily_summary(both[0]).filter(pl.col("indicator") == "stress_level").row(0, named=True)
    assert (stress["day"], stress["value"], stress["source"]) == (date(2025, 6, 2), 30.0, "garmin")
    alone = daily_summary(split_valid(fmt.rows("garmin", [("dailies", DAILY)]))[0])
    assert alone.filter(pl.col("indicator") == "stress_level")["value"].to_list() == [29.0]


# --- Oura ------------------------------------------------------------------------------------
O_SLEEP = {
    "id": "o1",
    "day": "2025-06-02",
    "type": "long_sleep",
    "bedtime_start": "2025-06-01T23:30:00+09:30",
    "bedtime_end": "2025-06-02T07:00:00+09:30",
    "time_in_bed": 27000,
    "total_sleep_duration": 24000,
    "lowest_heart_rate": 49,
    "heart_rate": {
        "interval": 300.0,
        "items": [58.0, None, 55.0],
        "timestamp": "2025-06-01T23:30:00.000+09:30",
    },
    "hrv": {
        "interval": 300.0,
        "items": [44.0, 52.0, None, 66.0],
        "timestamp": "2025-06-01T23:30:00.000+09:30",
    },
}


def test_oura_sleep_heart_rate_and_hrv_items_every_interval_from_their_timestamp(fmt):
    rows = fmt.rows("oura", [("sleep", O_SLEEP)])
    assert samples(rows, "heart_rate") == [  # 23:30 +09:30 = 14:00 UTC; the null is no reading
        (utc("2025-06-01T14:00:00Z"), 58.0, 34200, "oura.sleep"),
        (utc("2025-06-01T14:10:00Z"), 55.0, 34200, "oura.sleep"),
    ]
    assert samples(rows, "hrv_rmssd") == [
        (utc("2025-06-01T14:00:00Z"), 44.0, 34200, "oura"),
        (utc("2025-06-01T14:05:00Z"), 52.0, 34200, "oura"),
        (utc("2025-06-01T14:15:00Z"), 66.0, 34200, "oura"),
    ]


def test_oura_sleep_heart_rate_beside_the_heartrate_collection_is_no_duplicate(fmt):
    collection = {
        "day": "2025-06-01",
        "data": [{"bpm": 58, "source": "sleep", "timestamp": "2025-06-01T14:00:00+00:00"}],
    }
    valid, quarantine = split_valid(
        fmt.rows("oura", [("sleep", O_SLEEP), ("heartrate", collection)])
    )
    assert quarantine.height == 0
    assert sorted(valid.filter(pl.col("indicator") == "heart_rate")["source"]) == [
        "oura",
        "oura.sleep",
        "oura.sleep",
    ]


# --- Polar -----------------------------------------------------------------------------------
P_SLEEP = {
    "date": "2025-06-02",
    "sleep_start_time": "2025-06-01T23:20:41-09:30",
    "sleep_end_time": "2025-06-02T07:04:11-09:30",
    "light_sleep": 14820,
    "deep_sleep": 4920,
    "rem_sleep": 5880,
    "total_interruption_duration": 2190,
    "short_interruption_duration": 750,
    "long_interruption_duration": 1440,
}
RECHARGE = {
    "date": "2025-06-02",
    "heart_rate_variability_avg": 54,
    "breathing_rate_avg": 13.9,
    "ans_charge": 1.8,
    "hrv_samples": {"23:25": 47, "23:55": 52, "00:10": 50, "03:40": 61},
    "breathing_samples": {"23:24": 14.1, "00:09": 13.8},
}


def test_polar_interruptions_are_the_awake_time(fmt):
    assert fmt.values("polar", "sleep", P_SLEEP)["sleep_duration_awake"] == 36.5  # 2190 s


def test_polar_recharge_samples_roll_past_midnight_from_the_sleeps_start(fmt):
    rows = fmt.rows("polar", [("sleep", P_SLEEP), ("nightly-recharge", RECHARGE)])
    rows = rows.filter(pl.col("record_id").str.starts_with("nightly-recharge"))
    off = -34200, "polar"  # 23:25 -09:30 on 1 June = 08:55 UTC on 2 June
    assert samples(rows, "hrv_rmssd") == [
        (utc("2025-06-02T08:55:00Z"), 47.0, *off),
        (utc("2025-06-02T09:25:00Z"), 52.0, *off),
        (utc("2025-06-02T09:40:00Z"), 50.0, *off),
        (utc("2025-06-02T13:10:00Z"), 61.0, *off),
    ]
    assert samples(rows, "respiratory_rate") == [
        (utc("2025-06-02T08:54:00Z"), 14.1, *off),
        (utc("2025-06-02T09:39:00Z"), 13.8, *off),
    ]
    night = rows.filter(pl.col("indicator") == "sleep_average_hrv_rmssd").row(0, named=True)
    assert (night["value"], night["time"], night["tz_offset_s"]) == (
        54.0,
        utc("2025-06-02T16:34:11Z"),
        -34200,
    )  # dated at the night's end


def test_polar_recharge_without_its_sleep_takes_the_offset_nearby_and_noon_before(fmt):
    exercise = {
        "id": "ex",
        "start_time": "2025-06-01T18:02:00",
        "start_time_utc_offset": 840,
        "duration": "PT30M",
        "calories": 300,
    }
    rows = fmt.rows("polar", [("nightly-recharge", RECHARGE), ("exercises", exercise)])
    rows = rows.filter(pl.col("record_id").str.starts_with("nightly-recharge"))
    off = 50400, "polar"  # +14:00 from the exercise; keys after 12:00 are the evening before
    assert samples(rows, "hrv_rmssd")[:3] == [
        (utc("2025-06-01T09:25:00Z"), 47.0, *off),
        (utc("2025-06-01T09:55:00Z"), 52.0, *off),
        (utc("2025-06-01T10:10:00Z"), 50.0, *off),
    ]
    alone = fmt.rows("polar", [("nightly-recharge", RECHARGE)])
    assert samples(alone, "respiratory_rate") == [
        (utc("2025-06-01T23:24:00Z"), 14.1, 0, "polar"),
        (utc("2025-06-02T00:09:00Z"), 13.8, 0, "polar"),
    ]
    assert daily_summary(split_valid(alone)[0]).filter(
        pl.col("indicator") == "sleep_average_hrv_rmssd"
    )["day"].to_list() == [date(2025, 6, 2)]


# --- Withings --------------------------------------------------------------------------------
W_SLEEP = {
    "id": 7,
    "timezone": "Pacific/Kiritimati",
    "date": "2025-06-02",
    "startdate": epoch("2025-06-01T23:05:00+14:00"),
    "enddate": epoch("2025-06-02T06:35:00+14:00"),
    "data": {
        "total_timeinbed": 27000,
        "total_sleep_time": 24000,
        "rmssd_start_avg": 48.5,
        "rmssd_end_avg": 61,
    },
}


def test_withings_rmssd_averages_are_hrv_readings_at_the_nights_start_and_end(fmt):
    rows = fmt.rows("withings", [("sleep", W_SLEEP)])
    assert samples(rows, "hrv_rmssd") == [
        (utc("2025-06-01T09:05:00Z"), 48.5, 50400, "withings.sleep"),
        (utc("2025-06-01T16:35:00Z"), 61.0, 50400, "withings.sleep"),
    ]


def test_withings_intraday_breathing_is_respiratory_rate_in_its_zone(fmt):
    start = epoch("2025-06-02T00:00:00+00:00")
    intraday = {
        "startdate": start,
        "enddate": start + 86399,
        "series": {str(start + 3600): {"rr": 13, "heart_rate": 52}},
    }
    activity = {"date": "2025-06-02", "timezone": "Asia/Kathmandu", "steps": 10}
    rows = fmt.rows("withings", [("intraday", intraday), ("activity", activity)])
    assert samples(rows, "respiratory_rate") == [
        (utc("2025-06-02T01:00:00Z"), 13.0, 20700, "withings")
    ]
