"""One synthetic person for 30 days through every vendor: every indicator that two or more
vendors report normalises to the same standard values, within each vendor's rounding.

Rows are compared per local day (the catalogue's day anchor; a day-long interval belongs to
the day it mostly covers, since WHOOP cycles start at sleep onset) and samples per instant."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import polars as pl
import pytest

from indicators.catalogue import CATALOGUE
from indicators.model import DayAnchor, Kind
from indicators.timeutils import local_day_expr
from indicators.zones import ZONE_HISTORY_COLUMNS, ZoneHistory
from providers.types import MemoryTokenStore, Window

pytestmark = pytest.mark.anyio
LAST = date(2025, 2, 20)  # the sandbox's today (conftest.TODAY)
WINDOW = Window.for_days(LAST - timedelta(days=29), LAST)

# Worst-case difference between two vendors' renderings of one truth, in standard units.
TOLERANCE = {
    "sleep_efficiency": 1.0,  # Oura: integer %, Withings: ratio to 2 decimals
    "sleep_average_heart_rate": 0.51,  # Withings rounds to whole bpm
    "sleep_respiratory_rate": 0.51,  # Withings rounds to whole breaths/min
    "total_energy": 0.05,
    "workout_energy": 0.05,  # WHOOP: kJ to 0.1
    "respiratory_rate": 0.51,  # Withings' intraday rr: whole breaths/min
}
# Polar's sleep starts when the person falls asleep, the others' when they go to bed: its
# bedtime is later and its awake time shorter by the sleep latency (compared in
# test_value_gaps_sandbox with the latency the others report).
NOT_COMPARED = {("polar", "sleep_start"), ("polar", "sleep_duration_awake")}
DEFAULT_TOLERANCE = 1e-6
PROFILE = {"height", "user_max_heart_rate"}
SLUGS = ("whoop", "garmin", "oura", "withings", "polar")


def day_of(rows: pl.DataFrame) -> pl.DataFrame:
    anchors = {i.id: i.day_anchor == DayAnchor.END for i in CATALOGUE.values()}
    end_anchored = pl.col("indicator").replace_strict(anchors, return_dtype=pl.Boolean)
    day_long = (pl.col("end_time") - pl.col("time")) >= pl.duration(hours=20)
    midpoint = pl.col("time") + (pl.col("end_time") - pl.col("time")) / 2
    anchor = (
        pl.when(day_long)
        .then(midpoint)
        .when(end_anchored & pl.col("end_time").is_not_null())
        .then(pl.col("end_time"))
        .otherwise(pl.col("time"))
    )
    return rows.with_columns(local_day_expr(anchor, "tz_offset_s").alias("day"))


def _compare(rows: pl.DataFrame, key: str) -> pl.DataFrame:
    """Per (indicator, key): the spread between the vendors that report it."""
    per_vendor = rows.group_by("indicator", key, "vendor").agg(pl.col("value").mean())
    return (
        per_vendor.group_by("indicator", key)
        .agg(
            pl.col("value").max().alias("hi"),
            pl.col("value").min().alias("lo"),
            pl.col("vendor").sort().alias("vendors"),
            pl.len().alias("n"),
        )
        .filter(pl.col("n") >= 2)
        .with_columns((pl.col("hi") - pl.col("lo")).alias("spread"))
    )


async def _through_every_vendor(
    registry, link, person: str, zone: str | None = None
) -> pl.DataFrame:
    """The person's 30 days from every vendor, formatted; `zone`: where they live (it dates
    the samples vendors send without an offset)."""
    history = ZoneHistory(((date(2020, 1, 1), zone, "user"),) if zone else ())
    zones = pl.DataFrame(
        [(f"user-{person}", date(2020, 1, 1), zone, "user")] if zone else [],
        schema=ZONE_HISTORY_COLUMNS,
        orient="row",
    )
    frames = []
    for slug in SLUGS:
        provider = registry.get(slug)
        connection = replace(await link(provider, person, connection_id=f"x-{slug}"), zones=history)
        raw = await provider.pull(connection, WINDOW, MemoryTokenStore())
        rows = provider.format(raw, zones)
        # Garmin's 15-min epochs detail its dailies' totals (their sums are compared with the
        # dailies in test_format_garmin_epochs_snapshots_naps); one vendor's day is compared
        # through its totals.
        rows = rows.filter(pl.col("source") != "garmin.epochs")
        frames.append(rows.with_columns(pl.lit(slug).alias("vendor")))
    return day_of(pl.concat(frames))


async def test_a_person_far_from_utc_gets_the_same_local_day_from_every_vendor(registry, link):
    """Kiritimati (+14:00): samples sent in UTC only (Oura heart rate, Polar samples far from
    a sleep) take the person's zone, and every vendor's reading of one instant, and every
    daily value, lands on the same local day."""
    rows = await _through_every_vendor(registry, link, "kai", "Pacific/Kiritimati")
    assert (
        rows.filter(
            pl.col("offset_source").is_in(["default", "unknown_utc", "unknown_wall"])
        ).height
        == 0
    )
    zoned = rows.filter(pl.col("offset_source") == "user")
    assert set(zoned["vendor"]) >= {"oura"} and zoned.height > 1000
    assert set(zoned["tz_offset_s"]) == {50400}
    # one instant, one local day, whoever reported it
    samples = (
        rows.filter(pl.col("end_time").is_null())
        .group_by("indicator", "time")
        .agg(pl.col("day").n_unique().alias("days"), pl.col("vendor").n_unique().alias("vendors"))
    )
    shared = samples.filter(pl.col("vendors") >= 2)
    assert shared.height > 500 and shared["days"].max() == 1
    # the daily values that two vendors share agree on their day (as for a person near UTC)
    daily = rows.filter(pl.col("end_time").is_not_null() | pl.col("offset_source").eq("day"))
    per_day = _compare(daily.filter(~pl.col("indicator").is_in(list(PROFILE))), "day")
    tolerance = pl.col("indicator").replace_strict(
        TOLERANCE, default=DEFAULT_TOLERANCE, return_dtype=pl.Float64
    )
    off = per_day.filter(pl.col("spread") > tolerance).filter(
        ~pl.col("indicator").is_in(["sleep_start", "sleep_duration_awake"])
    )
    with pl.Config(tbl_rows=40, tbl_width_chars=200):
        assert off.height == 0, str(off.sort("spread", descending=True).head(30))
    # without the zone, the same UTC-only samples land on the UTC date: days disagree
    unzoned = await _through_every_vendor(registry, link, "kai")
    oura_hr = unzoned.filter((pl.col("source") == "oura") & (pl.col("indicator") == "heart_rate"))
    assert set(oura_hr["offset_source"]) == {"default"}
    split = (
        unzoned.filter(pl.col("end_time").is_null())
        .group_by("indicator", "time")
        .agg(pl.col("day").n_unique().alias("days"))
    )
    assert split["days"].max() == 2


async def test_one_person_through_every_vendor_gives_the_same_values(registry, link):
    frames = []
    for slug in SLUGS:
        provider = registry.get(slug)
        connection = await link(provider, connection_id=f"x-{slug}")
        raw = await provider.pull(connection, WINDOW, MemoryTokenStore())
        rows = provider.format(raw)
        # Garmin's 15-min epochs detail its dailies' totals (their sums are compared with the
        # dailies in test_format_garmin_epochs_snapshots_naps); one vendor's day is compared
        # through its totals.
        rows = rows.filter(pl.col("source") != "garmin.epochs")
        frames.append(rows.with_columns(pl.lit(slug).alias("vendor")))
    rows = day_of(pl.concat(frames)).filter(
        ~pl.struct("vendor", "indicator").is_in(
            [{"vendor": v, "indicator": i} for v, i in NOT_COMPARED]
        )
    )
    samples = {i.id for i in CATALOGUE.values() if i.kind == Kind.SAMPLE} - PROFILE
    is_sample = pl.col("indicator").is_in(list(samples))
    is_profile = pl.col("indicator").is_in(list(PROFILE))
    by_day = _compare(rows.filter(~is_sample & ~is_profile), "day")
    by_instant = _compare(rows.filter(is_sample), "time")
    # WHOOP's body measurement has no time (dated when pulled): profile values meet as such
    by_profile = _compare(rows.filter(is_profile).with_columns(pl.lit(0).alias("k")), "k")
    compared = pl.concat([by_day.drop("day"), by_instant.drop("time"), by_profile.drop("k")])
    tolerance = pl.col("indicator").replace_strict(
        TOLERANCE, default=DEFAULT_TOLERANCE, return_dtype=pl.Float64
    )
    off = compared.filter(pl.col("spread") > tolerance)
    with pl.Config(tbl_rows=40, tbl_width_chars=200, fmt_str_lengths=60):
        assert off.height == 0, str(off.sort("spread", descending=True).head(30))

    shared = set(compared["indicator"])
    # Every indicator two or more vendors report met on at least one day or instant.
    reported = rows.group_by("indicator").agg(pl.col("vendor").n_unique().alias("k"))
    multi = set(reported.filter(pl.col("k") >= 2)["indicator"])
    assert multi - shared == set(), sorted(multi - shared)
    assert len(shared) >= 30, sorted(shared)
    assert compared.height >= 500
