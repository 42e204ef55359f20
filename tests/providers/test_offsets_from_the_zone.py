"""Samples a vendor sends without an offset take the person's zone (golden, worked by hand);
samples with the vendor's own offset keep it; Oura's heart-rate day documents follow the
person's local day."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from indicators.zones import ZONE_HISTORY_COLUMNS, ZoneHistory
from providers.types import MemoryTokenStore, Window

pytestmark = pytest.mark.anyio
USER = "https://polaraccesslink.com/v3/users/627139"
# Paris springs forward at 02:00 local on 2025-03-30: 02:30 never happens that night.
CHR = {
    "polar_user": USER,
    "date": "2025-03-30",
    "heart_rate_samples": [
        {"heart_rate": 58, "sample_time": "01:30:00"},
        {"heart_rate": 57, "sample_time": "02:30:00"},
        {"heart_rate": 71, "sample_time": "12:00:00"},
    ],
}
PHYSICAL = {"weight": 70.5, "height": 176, "modified": "2025-03-01T20:00:00.000Z"}
DAY0 = 1741651200  # 2025-03-11 00:00:00 UTC
INTRADAY = {
    "startdate": DAY0,
    "enddate": DAY0 + 86399,
    "series": {str(DAY0 + 7200): {"deviceid": "892359876fd8", "heart_rate": 55}},
}


def _zones(zone: str, user: str = "u1") -> pl.DataFrame:
    return pl.DataFrame(
        [(user, date(2020, 1, 1), zone, "user")], schema=ZONE_HISTORY_COLUMNS, orient="row"
    )


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _local_days(rows: pl.DataFrame) -> list[date]:
    shifted = pl.col("time").dt.replace_time_zone(None) + pl.duration(seconds="tz_offset_s")
    return rows.select(shifted.dt.date()).to_series().to_list()


def test_polar_wall_clock_samples_without_a_sleep_nearby_take_the_zone_across_dst(fmt):
    provider = fmt.provider("polar")
    rows = provider.format(
        fmt.raw("polar", [("continuous-heart-rate", CHR)]), _zones("Europe/Paris")
    ).sort("time")
    assert rows.select("time", "tz_offset_s", "value", "offset_source").rows() == [
        (_utc(2025, 3, 30, 0, 30), 3600, 58.0, "user"),  # 01:30 CET
        # 02:30 does not exist: read with +01:00 (the offset before the gap), an instant at
        # which Paris is already at +02:00 (03:30 CEST)
        (_utc(2025, 3, 30, 1, 30), 7200, 57.0, "user"),
        (_utc(2025, 3, 30, 10, 0), 7200, 71.0, "user"),
    ]  # 12:00 CEST
    assert _local_days(rows) == [date(2025, 3, 30)] * 3


def test_polar_samples_with_the_days_sleep_keep_the_vendors_offset(fmt):
    sleep = {
        "polar_user": USER,
        "date": "2025-03-30",
        "sleep_start_time": "2025-03-29T23:10:00+05:45",
        "sleep_end_time": "2025-03-30T07:00:00+05:45",
        "light_sleep": 14820,
        "deep_sleep": 4920,
        "rem_sleep": 5880,
        "unrecognized_sleep_stage": 0,
    }
    rows = fmt.provider("polar").format(
        fmt.raw("polar", [("continuous-heart-rate", CHR), ("sleep", sleep)]), _zones("Europe/Paris")
    )
    chr_rows = rows.filter(pl.col("source") == "polar.continuous")
    assert set(chr_rows["tz_offset_s"]) == {20700}
    assert set(chr_rows["offset_source"]) == {"vendor"}


def test_polar_physical_info_is_dated_on_the_persons_day(fmt):
    rows = fmt.provider("polar").format(
        fmt.raw("polar", [("physical-info", PHYSICAL)]), _zones("Pacific/Kiritimati")
    )
    # 20:00 UTC on 1 March is 10:00 on 2 March in Kiritimati (+14:00)
    assert set(rows["tz_offset_s"]) == {50400}
    assert set(_local_days(rows)) == {date(2025, 3, 2)}
    assert set(rows["offset_source"]) == {"user"}


def test_withings_intraday_without_a_zoned_record_takes_the_persons_zone(fmt):
    provider = fmt.provider("withings")
    rows = provider.format(
        fmt.raw("withings", [("intraday", INTRADAY)]), _zones("Pacific/Marquesas")
    )
    assert rows.height == 1 and rows["tz_offset_s"].to_list() == [-34200]
    assert _local_days(rows) == [date(2025, 3, 10)]  # 02:00 UTC is 16:30 the day before
    unknown = provider.format(fmt.raw("withings", [("intraday", INTRADAY)]))
    assert unknown["tz_offset_s"].to_list() == [0] and unknown["offset_source"].to_list() == [
        "default"
    ]


KAI_ZONE = "Pacific/Kiritimati"
LAST = date(2025, 2, 18)


async def _local_day_documents(
    registry, link, slug: str, record_type: str, days: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """kai's `record_type` documents of `days` days pulled with their zone known, and their
    rows with each sample's local day (`local`) beside its document's day (`doc`)."""
    provider = registry.get(slug)
    connection = replace(
        await link(provider, "kai"), zones=ZoneHistory(((date(2020, 1, 1), KAI_ZONE, "user"),))
    )
    raw = await provider.pull(
        connection,
        Window.for_days(LAST - timedelta(days=days - 1), LAST),
        MemoryTokenStore(),
        record_types=(record_type,),
    )
    rows = provider.format(raw, _zones(KAI_ZONE, connection.user_id))
    return raw, rows.with_columns(
        (pl.col("time").dt.convert_time_zone(KAI_ZONE).dt.date()).alias("local"),
        pl.col("record_id").str.strip_prefix(f"{record_type}:").str.to_date().alias("doc"),
    )


async def test_oura_heart_rate_day_documents_follow_the_persons_local_day(registry, link):
    raw, days = await _local_day_documents(registry, link, "oura", "heartrate", 3)
    assert raw.height >= 3
    assert days.filter(pl.col("local") != pl.col("doc")).height == 0
    assert set(days["offset_source"]) == {"user"} and set(days["tz_offset_s"]) == {50400}
    # a complete local day: 00:00 to 23:55 in Kiritimati, 288 five-minute samples
    assert days.filter(pl.col("doc") == LAST - timedelta(days=1)).height == 288


async def test_withings_intraday_day_documents_follow_the_persons_local_day(registry, link):
    raw, days = await _local_day_documents(registry, link, "withings", "intraday", 2)
    assert raw["record_type"].unique().to_list() == ["intraday"] and raw.height >= 2
    assert days.height > 100 and days.filter(pl.col("local") != pl.col("doc")).height == 0
