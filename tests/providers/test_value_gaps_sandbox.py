"""The newly mapped fields through the sandbox cloud over real HTTP: each vendor sends them the
way it does, from the shared physiology, and they normalise to that physiology (for ada at
+01:00 and ben at -05:00). Fields left unmapped because another record carries the same value
are checked to arrive through that other record."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import pytest

from indicators.aggregate import daily_summary
from providers.sandbox.physiology import PERSONS, day_truth, days_between, heart_rate, night_hrv
from providers.types import MemoryTokenStore, Window

pytestmark = pytest.mark.anyio
FIRST, LAST = date(2025, 2, 9), date(2025, 2, 19)
WINDOW = Window.for_days(FIRST, LAST)
SLUGS = ("whoop", "garmin", "oura", "withings", "polar")
_PULLED: dict[tuple[str, str], tuple[pl.DataFrame, pl.DataFrame]] = {}


async def pulled(
    registry: Any, link: Any, slug: str, user: str = "ada"
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(raw records, valid rows) of one vendor account over WINDOW; the quarantine is empty."""
    if (slug, user) not in _PULLED:
        provider = registry.get(slug)
        connection = await link(provider, user=user, connection_id=f"gaps-{slug}-{user}")
        raw = await provider.pull(connection, WINDOW, MemoryTokenStore())
        formatted = provider.format_split(raw)
        assert formatted.quarantine.height == 0, formatted.quarantine
        _PULLED[slug, user] = raw, formatted.values
    return _PULLED[slug, user]


def nights(user: str, first: date = FIRST) -> list[Any]:
    person = PERSONS[user]
    return [
        t for t in (day_truth(person, d) for d in days_between(first, LAST)) if t.sleep is not None
    ]


def at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def of(rows: pl.DataFrame, indicator: str, source: str | None = None) -> pl.DataFrame:
    rows = rows.filter(pl.col("indicator") == indicator)
    return rows if source is None else rows.filter(pl.col("source") == source)


@pytest.mark.parametrize("user", ["ada", "ben"])
@pytest.mark.parametrize("slug", SLUGS)
async def test_every_vendor_gives_the_nights_bedtime_and_wake_time(registry, link, slug, user):
    _, rows = await pulled(registry, link, slug, user)
    summary = daily_summary(rows)
    by_day = {(r["day"], r["indicator"]): r["value"] for r in summary.iter_rows(named=True)}
    checked = 0
    for t in nights(user):
        s = t.sleep
        start = s.start + (s.latency_s if slug == "polar" else 0)  # Polar: falling asleep
        if (t.day, "sleep_end") not in by_day:
            continue  # a pending night the vendor has not scored yet
        assert by_day[t.day, "sleep_start"] == pytest.approx((start - t.local_midnight) / 60)
        assert by_day[t.day, "sleep_end"] == pytest.approx((s.end - t.local_midnight) / 60)
        checked += 1
    assert checked >= len(nights(user)) - 2


async def test_polar_sleep_lacks_only_the_latency_the_others_count(registry, link):
    _, polar = await pulled(registry, link, "polar")
    _, oura = await pulled(registry, link, "oura")
    p, o = (
        {(r["day"], r["indicator"]): r["value"] for r in daily_summary(rows).iter_rows(named=True)}
        for rows in (polar, oura)
    )
    days = [d for d, i in p if i == "sleep_duration_awake" and (d, "sleep_latency") in o]
    assert len(days) >= 5
    for day in days:
        latency = o[day, "sleep_latency"]
        assert p[day, "sleep_duration_awake"] + latency == pytest.approx(
            o[day, "sleep_duration_awake"]
        )
        assert p[day, "sleep_start"] - latency == pytest.approx(o[day, "sleep_start"])


async def test_garmin_night_spo2_and_breathing_and_the_days_stress(registry, link):
    raw, rows = await pulled(registry, link, "garmin")
    person = PERSONS["ada"]
    for t in nights("ada"):
        spo2 = of(rows, "spo2", "garmin.sleep").filter(pl.col("time") == at(t.sleep.start))
        assert spo2["value"].to_list() in ([round(t.sleep.spo2)], [])
        breath = of(rows, "respiratory_rate", "garmin.sleep").filter(
            pl.col("time") == at(t.sleep.start)
        )
        assert breath["value"].to_list() in ([t.sleep.resp_rate], [])
    assert of(rows, "spo2", "garmin.sleep").height >= 8
    assert set(of(rows, "spo2", "garmin.sleep")["tz_offset_s"]) == {person.tz_offset_s}
    # the dailies' average stress is the mean of the day's readings, their maximum the highest
    readings = (
        of(rows, "stress_level", "garmin")
        .group_by("record_id")
        .agg(pl.col("value").mean().round().alias("mean"), pl.col("value").max().alias("max"))
    )
    daily = of(rows, "stress_level", "garmin.daily")
    assert daily.height >= 8 and set(daily["value"]) == set(readings["mean"])
    dailies = raw.filter(pl.col("record_type") == "dailies")["payload"]
    assert {json.loads(p)["maxStressLevel"] for p in dailies} == set(readings["max"])


async def test_oura_night_series_are_the_physiologys_and_naps_rest_give_no_resting_rate(
    registry, link
):
    _, rows = await pulled(registry, link, "oura")
    person = PERSONS["ada"]
    hr = of(rows, "heart_rate", "oura.sleep")
    assert hr.height >= 8 * 90
    for when, value in hr.select("time", "value").rows():
        assert value == heart_rate(person, int(when.timestamp()))
    sleeps = {t.day: t.sleep for t in nights("ada")}
    hrv = of(rows, "hrv_rmssd").filter(
        pl.col("record_id").is_in(of(rows, "sleep_duration_in_bed")["record_id"].implode())
    )
    assert hrv.height >= 8 * 90
    for when, value in hrv.select("time", "value").rows():
        night = next(s for s in sleeps.values() if s.start <= when.timestamp() < s.end)
        assert value == night_hrv(night, int(when.timestamp()))
    resting = daily_summary(rows).filter(pl.col("indicator") == "resting_heart_rate")
    assert resting.height >= 8
    for day, value in resting.select("day", "value").rows():
        assert value == sleeps[day].lowest_hr


async def test_polar_recharge_samples_fall_in_the_first_hours_of_the_sleep(registry, link):
    _, rows = await pulled(registry, link, "polar", "ben")
    sleeps = [t.sleep for t in nights("ben", date(2025, 1, 15))]  # Polar: its last 28 days
    hrv = of(rows, "hrv_rmssd")
    assert hrv.height >= 8 * 40 and set(hrv["tz_offset_s"]) == {-18000}
    for when, value in hrv.select("time", "value").rows():
        ts = int(when.timestamp())
        night = next(s for s in sleeps if s.start <= ts < s.end)
        asleep = night.start + night.latency_s
        assert asleep - 60 < ts < asleep + 4 * 3600  # rolled past midnight, not a day off
        assert value == night_hrv(night, ts)
    breaths = of(rows, "respiratory_rate")
    assert breaths.height == hrv.height
    for when, value in breaths.select("time", "value").rows():
        ts = int(when.timestamp())
        assert value == next(s for s in sleeps if s.start <= ts < s.end).resp_rate


async def test_withings_night_hrv_cycles_and_wake_ups(registry, link):
    _, rows = await pulled(registry, link, "withings")
    ada = {t.day: t.sleep for t in nights("ada")}
    hrv = of(rows, "hrv_rmssd", "withings.sleep")
    starts = {at(s.start): night_hrv(s, s.start) for s in ada.values()}
    ends = {at(s.end): night_hrv(s, s.end) for s in ada.values()}
    assert hrv.height >= 16
    for when, value in hrv.select("time", "value").rows():
        assert value == starts.get(when, ends.get(when))
    summary = daily_summary(rows)
    for indicator, truth in (
        ("sleep_cycles", "cycles"),
        ("sleep_disturbances", "disturbances"),
        ("respiratory_rate", "resp_rate"),
    ):
        values = summary.filter(pl.col("indicator") == indicator)
        assert values.height >= 8
        if indicator != "respiratory_rate":
            for day, value in values.select("day", "value").rows():
                assert value == getattr(ada[day], truth)


# (slug, record type, ignored path): the record type and indicators that carry its value
ELSEWHERE = {
    ("oura", "sleep", "readiness"): (
        "daily_readiness",
        ("readiness_score", "skin_temperature_deviation"),
    ),
    ("oura", "session", "heart_rate"): ("heartrate", ("heart_rate",)),
    ("garmin", "dailies", "maxStressLevel"): ("stressDetails", ("stress_level",)),
    ("garmin", "activities", "steps"): ("dailies", ("steps",)),
    ("withings", "workouts", "data.steps"): ("activity", ("steps",)),
}


def _docs(raw: pl.DataFrame, record_type: str) -> list[dict[str, Any]]:
    return [json.loads(p) for p in raw.filter(pl.col("record_type") == record_type)["payload"]]


def _arrives(slug: str, record_type: str, raw: pl.DataFrame, rows: pl.DataFrame) -> int:
    """How many of the ignored values were found through the other record (asserting each)."""
    by_day = {
        (r["day"], r["indicator"]): r["value"] for r in daily_summary(rows).iter_rows(named=True)
    }
    found = 0
    if (slug, record_type) == ("oura", "sleep"):
        for doc in _docs(raw, "sleep"):
            if doc["readiness"] is not None:
                day = date.fromisoformat(doc["day"])
                assert by_day[day, "readiness_score"] == doc["readiness"]["score"]
                assert (
                    by_day[day, "skin_temperature_deviation"]
                    == doc["readiness"]["temperature_deviation"]
                )
                found += 1
    elif slug == "oura":  # where both read one instant (every 5 min, every 5 s) they agree
        collection = dict(of(rows, "heart_rate", "oura").select("time", "value").rows())
        for doc in _docs(raw, "session"):
            series = doc["heart_rate"]
            start = datetime.fromisoformat(series["timestamp"]).timestamp()
            for i, bpm in enumerate(series["items"]):
                when = datetime.fromtimestamp(start + i * series["interval"], UTC)
                if when in collection:
                    assert collection[when] == bpm
                    found += 1
    elif record_type == "dailies":
        local_day = (
            pl.col("time").dt.replace_time_zone(None) + pl.duration(seconds=pl.col("tz_offset_s"))
        ).dt.date()
        highest = dict(
            of(rows, "stress_level", "garmin")
            .group_by(local_day.alias("day"))
            .agg(pl.col("value").max())
            .rows()
        )
        for doc in _docs(raw, "dailies"):
            assert highest[date.fromisoformat(doc["calendarDate"])] == doc["maxStressLevel"]
            found += 1
    else:  # a workout's steps are inside its day's total
        kind, path, when = (
            ("activities", "steps", "startTimeInSeconds")
            if slug == "garmin"
            else ("workouts", "data", "startdate")
        )
        for doc in _docs(raw, kind):
            steps = doc[path] if slug == "garmin" else doc[path]["steps"]
            offset = PERSONS["ada"].tz_offset_s
            day = datetime.fromtimestamp(doc[when] + offset, UTC).date()
            assert by_day[day, "steps"] >= steps
            found += steps > 0
    return found


@pytest.mark.parametrize(("slug", "record_type", "path"), sorted(ELSEWHERE))
async def test_a_value_left_to_another_record_says_so_and_arrives_through_it(
    registry, link, slug, record_type, path
):
    other, indicators = ELSEWHERE[slug, record_type, path]
    reason = registry.get(slug).mappings[record_type].ignored[path]
    assert other in reason and all(i in reason for i in indicators), reason
    raw, rows = await pulled(registry, link, slug)
    assert _arrives(slug, record_type, raw, rows) >= 2
