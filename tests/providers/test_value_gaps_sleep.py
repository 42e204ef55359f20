"""Which periods count as sleep, and each vendor's bedtime and wake time (`sleep_start`,
`sleep_end`): golden tests on documents written from the vendor notes, at offsets of +05:45,
+09:30, -09:30 and +14:00 and across DST changes in both hemispheres, values worked by hand.

A bedtime/wake time is a session row of the night (so it counts for the wake-up day) whose
value is the wall-clock time in minutes from local midnight of that day: 22:40 is -80."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from indicators.aggregate import daily_summary
from indicators.quarantine import split_valid

# (bedtime, wake time, sleep_start, sleep_end, wake-up day, offset of the night's start)
NIGHTS = {
    "+05:45": (
        "2025-03-10T22:40:00+05:45",
        "2025-03-11T06:15:30+05:45",
        -80.0,
        375.5,
        date(2025, 3, 11),
        20700,
    ),
    "+09:30": (
        "2025-06-01T23:30:00+09:30",
        "2025-06-02T07:00:00+09:30",
        -30.0,
        420.0,
        date(2025, 6, 2),
        34200,
    ),
    "-09:30": (
        "2025-06-01T21:45:00-09:30",
        "2025-06-02T05:50:00-09:30",
        -135.0,
        350.0,
        date(2025, 6, 2),
        -34200,
    ),
    "+14:00": (
        "2025-06-01T23:05:00+14:00",
        "2025-06-02T06:35:00+14:00",
        -55.0,
        395.0,
        date(2025, 6, 2),
        50400,
    ),
    "after midnight": (
        "2025-03-11T00:30:00+05:45",
        "2025-03-11T08:00:00+05:45",
        30.0,
        480.0,
        date(2025, 3, 11),
        20700,
    ),
}
# Across a DST change the wake time is the one on the wall: read on the end's own offset.
DST_NIGHTS = {
    "Berlin spring": (
        "2025-03-29T23:10:00+01:00",
        "2025-03-30T07:05:00+02:00",
        -50.0,
        425.0,
        date(2025, 3, 30),
        3600,
    ),
    "Berlin autumn": (
        "2025-10-25T23:00:00+02:00",
        "2025-10-26T07:00:00+01:00",
        -60.0,
        420.0,
        date(2025, 10, 26),
        7200,
    ),
    "Sydney autumn": (
        "2025-04-05T22:30:00+11:00",
        "2025-04-06T06:30:00+10:00",
        -90.0,
        390.0,
        date(2025, 4, 6),
        39600,
    ),
    "Sydney spring": (
        "2025-10-04T23:00:00+10:00",
        "2025-10-05T07:00:00+11:00",
        -60.0,
        420.0,
        date(2025, 10, 5),
        36000,
    ),
}
ZONES = {
    "+05:45": "Asia/Kathmandu",
    "+09:30": "Australia/Darwin",
    "-09:30": "Pacific/Marquesas",
    "+14:00": "Pacific/Kiritimati",
    "after midnight": "Asia/Kathmandu",
    "Berlin spring": "Europe/Berlin",
    "Berlin autumn": "Europe/Berlin",
    "Sydney autumn": "Australia/Sydney",
    "Sydney spring": "Australia/Sydney",
}


def epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC)


def oura(start: str, end: str, kind: str = "long_sleep", doc_id: str = "s1", **more) -> dict:
    return {
        "id": doc_id,
        "day": end[:10],
        "type": kind,
        "bedtime_start": start,
        "bedtime_end": end,
        "time_in_bed": epoch(end) - epoch(start),
        "total_sleep_duration": 24000,
        "awake_time": 1800,
        "lowest_heart_rate": 49,
        "average_heart_rate": 55.5,
    } | more


def polar(start: str, end: str) -> dict:
    return {
        "date": end[:10],
        "sleep_start_time": start,
        "sleep_end_time": end,
        "light_sleep": 14820,
        "deep_sleep": 4920,
        "rem_sleep": 5880,
        "total_interruption_duration": 2190,
    }


def withings(start: str, end: str, zone: str, doc_id: int = 1, **data) -> dict:
    return {
        "id": doc_id,
        "timezone": zone,
        "date": end[:10],
        "startdate": epoch(start),
        "enddate": epoch(end),
        "data": {
            "total_timeinbed": epoch(end) - epoch(start),
            "total_sleep_time": 25080,
            "wakeupduration": 2940,
        }
        | data,
    }


def garmin(start: str, end: str, offset_s: int) -> dict:
    return {
        "summaryId": "g1",
        "calendarDate": end[:10],
        "startTimeInSeconds": epoch(start),
        "startTimeOffsetInSeconds": offset_s,
        "durationInSeconds": epoch(end) - epoch(start),
        "deepSleepDurationInSeconds": 5340,
        "lightSleepDurationInSeconds": 15180,
        "remSleepInSeconds": 6060,
        "awakeDurationInSeconds": 1620,
    }


def whoop(start: str, end: str, offset: str) -> dict:
    stages = {
        "total_in_bed_time_milli": (epoch(end) - epoch(start)) * 1000,
        "total_awake_time_milli": 1800000,
        "total_light_sleep_time_milli": 14000000,
        "total_slow_wave_sleep_time_milli": 5000000,
        "total_rem_sleep_time_milli": 6000000,
    }
    return {
        "id": "w1",
        "start": utc(start).isoformat().replace("+00:00", "Z"),
        "end": utc(end).isoformat().replace("+00:00", "Z"),
        "timezone_offset": offset,
        "nap": False,
        "score_state": "SCORED",
        "score": {"stage_summary": stages},
    }


def docs_for(slug: str, name: str, night: tuple) -> list[tuple[str, dict]]:
    start, end, *_, offset_s = night
    if slug == "oura":
        return [("sleep", oura(start, end))]
    if slug == "polar":
        return [("sleep", polar(start, end))]
    if slug == "withings":
        return [("sleep", withings(start, end, ZONES[name]))]
    if slug == "garmin":
        return [("sleeps", garmin(start, end, offset_s))]
    return [("sleep", whoop(start, end, start[-6:]))]


def clock(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.filter(pl.col("indicator").is_in(["sleep_start", "sleep_end"])).sort("indicator")


def check_night(fmt, slug: str, name: str, night: tuple) -> None:
    start, end, bedtime, wake, day, offset_s = night
    rows = clock(fmt.rows(slug, docs_for(slug, name, night)))
    assert rows.select("indicator", "value").rows() == [
        ("sleep_end", pytest.approx(wake)),
        ("sleep_start", pytest.approx(bedtime)),
    ]
    assert set(rows["time"]) == {utc(start)} and set(rows["end_time"]) == {utc(end)}
    assert set(rows["tz_offset_s"]) == {offset_s} and set(rows["unit"]) == {"min"}
    summary = daily_summary(split_valid(rows)[0])  # counted for the wake-up day
    assert summary.select("day", "indicator", "value").rows() == [
        (day, "sleep_end", pytest.approx(wake)),
        (day, "sleep_start", pytest.approx(bedtime)),
    ]


@pytest.mark.parametrize("slug", ["oura", "polar", "withings", "garmin", "whoop"])
@pytest.mark.parametrize("name", list(NIGHTS))
def test_bedtime_and_wake_time_are_minutes_from_the_wake_up_days_midnight(fmt, slug, name):
    check_night(fmt, slug, name, NIGHTS[name])


@pytest.mark.parametrize("slug", ["oura", "polar", "withings"])
@pytest.mark.parametrize("name", list(DST_NIGHTS))
def test_a_night_across_a_dst_change_wakes_on_the_clock_of_its_end(fmt, slug, name):
    check_night(fmt, slug, name, DST_NIGHTS[name])


def test_withings_reads_the_end_offset_of_a_dst_night_from_its_zone(fmt):
    start, end, *_ = DST_NIGHTS["Berlin spring"]
    doc = withings(start, end, "Europe/Berlin", rmssd_start_avg=48.5, rmssd_end_avg=61)
    hrv = fmt.rows("withings", [("sleep", doc)]).filter(pl.col("indicator") == "hrv_rmssd")
    assert hrv.sort("time").select("time", "tz_offset_s", "value").rows() == [
        (utc(start), 3600, 48.5),
        (utc(end), 7200, 61.0),
    ]


# --- which periods are sleep -----------------------------------------------------------------
KTM = ("2025-03-10T22:40:00+05:45", "2025-03-11T06:15:30+05:45")


def test_oura_rest_and_deleted_periods_are_not_sleep_and_naps_give_no_clock_times(fmt):
    long_sleep = oura(*KTM)
    nap = oura(
        "2025-03-11T14:00:00+05:45",
        "2025-03-11T14:40:00+05:45",
        "sleep",
        "nap",
        total_sleep_duration=2100,
        lowest_heart_rate=44,
    )
    late_nap = oura(
        "2025-03-11T18:10:00+05:45",
        "2025-03-11T18:40:00+05:45",
        "late_nap",
        "late",
        total_sleep_duration=1500,
        lowest_heart_rate=46,
    )
    rest = oura(
        "2025-03-11T15:00:00+05:45",
        "2025-03-11T15:30:00+05:45",
        "rest",
        "rest",
        total_sleep_duration=1500,
        lowest_heart_rate=40,
        heart_rate={
            "interval": 300.0,
            "items": [41.0],
            "timestamp": "2025-03-11T15:00:00.000+05:45",
        },
    )
    deleted = oura(*KTM, kind="deleted", doc_id="gone", total_sleep_duration=9000)
    rows = fmt.rows("oura", [("sleep", d) for d in (long_sleep, nap, late_nap, rest, deleted)])
    assert set(rows["record_id"]) == {"s1", "nap", "late"}
    day = daily_summary(split_valid(rows)[0]).filter(pl.col("day") == date(2025, 3, 11))
    v = dict(zip(day["indicator"], day["value"], strict=True))
    assert v["sleep_duration_asleep"] == pytest.approx((24000 + 2100 + 1500) / 60)  # 460.0
    assert v["sleep_lowest_heart_rate"] == 44  # the naps' are sleep too
    assert (v["sleep_start"], v["sleep_end"]) == (-80.0, 375.5)  # the long sleep only
    assert v["resting_heart_rate"] == 49  # the main sleep's lowest, never a nap's


def test_oura_resting_heart_rate_is_the_main_sleeps_lowest_dated_at_wake_up(fmt):
    rows = fmt.rows("oura", [("sleep", oura(*KTM))])
    rest = rows.filter(pl.col("indicator") == "resting_heart_rate").row(0, named=True)
    assert (rest["value"], rest["time"], rest["end_time"], rest["tz_offset_s"]) == (
        49.0,
        utc(KTM[1]),
        None,
        20700,
    )
    nap = oura(*KTM, kind="sleep")
    assert (
        fmt.rows("oura", [("sleep", nap)])
        .filter(pl.col("indicator") == "resting_heart_rate")
        .height
        == 0
    )


def test_whoop_naps_give_no_bedtime_or_wake_time(fmt):
    nap = whoop("2025-03-11T14:00:00+05:45", "2025-03-11T14:40:00+05:45", "+05:45") | {
        "id": "nap",
        "nap": True,
    }
    rows = fmt.rows("whoop", [("sleep", whoop(*KTM, "+05:45")), ("sleep", nap)])
    assert set(clock(rows)["record_id"]) == {"w1"}
    assert rows.filter(pl.col("record_id") == "nap").height > 0  # still a sleep session


def test_withings_main_sleep_is_the_longest_of_its_wake_up_day(fmt):
    night = withings(*KTM, "Asia/Kathmandu")
    nap = withings(
        "2025-03-11T14:00:00+05:45",
        "2025-03-11T14:45:00+05:45",
        "Asia/Kathmandu",
        doc_id=2,
        total_sleep_time=2400,
    )
    rows = clock(fmt.rows("withings", [("sleep", night), ("sleep", nap)]))
    assert rows.select("record_id", "indicator", "value").rows() == [
        ("1", "sleep_end", 375.5),
        ("1", "sleep_start", -80.0),
    ]


def test_withings_night_from_another_source_keeps_its_asleep_time(fmt):
    external = withings(
        *KTM, "Asia/Kathmandu", total_sleep_time=None, asleepduration=25080, durationtosleep=600
    )
    v = fmt.values("withings", "sleep", external)
    assert v["sleep_duration_asleep"] == 418.0  # 25080 s
    assert v["sleep_latency"] == 10.0  # durationtosleep, the deprecated name
    both = withings(*KTM, "Asia/Kathmandu", asleepduration=1)
    assert fmt.values("withings", "sleep", both)["sleep_duration_asleep"] == 418.0


def test_withings_wake_ups_and_rem_episodes_are_disturbances_and_cycles(fmt):
    doc = withings(*KTM, "Asia/Kathmandu", wakeupcount=3, nb_rem_episodes=5)
    v = fmt.values("withings", "sleep", doc)
    assert (v["sleep_disturbances"], v["sleep_cycles"]) == (3, 5)
