"""The person's zone gives an offset to samples sent without one: DST-correct, on every offset
far from UTC, and learned from what vendors state. Expected values are worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from indicators.frames import INDICATOR_VALUE_COLUMNS
from indicators.timeutils import local_day_expr
from indicators.zones import (
    ZONE_HISTORY_COLUMNS,
    ZoneHistory,
    changed_entries,
    daily_offsets,
    infer_zones,
    resolve_offsets,
)


def _rows(*rows: tuple[str, datetime, str]) -> pl.DataFrame:
    """(user, time, offset_source) rows of heart rate, offset 0 as formatted."""
    return pl.DataFrame(
        [
            {
                "user_id": user,
                "indicator": "heart_rate",
                "time": when,
                "end_time": None,
                "tz_offset_s": 0,
                "value": 60.0,
                "unit": "/min",
                "source": "oura",
                "record_id": f"r{i}",
                "offset_source": kind,
            }
            for i, (user, when, kind) in enumerate(rows)
        ],
        schema=INDICATOR_VALUE_COLUMNS,
    )


def _zones(*entries: tuple[str, date, str, str]) -> pl.DataFrame:
    return pl.DataFrame(list(entries), schema=ZONE_HISTORY_COLUMNS, orient="row")


@pytest.mark.parametrize(
    ("zone", "instant", "offset", "day"),
    [
        # 18:30 UTC is 00:15 the next day in Kathmandu (+05:45)
        ("Asia/Kathmandu", datetime(2025, 3, 1, 18, 30, tzinfo=UTC), 20700, date(2025, 3, 2)),
        # 15:00 UTC is 00:30 the next day in Darwin (+09:30, no DST)
        ("Australia/Darwin", datetime(2025, 3, 1, 15, 0, tzinfo=UTC), 34200, date(2025, 3, 2)),
        # 09:00 UTC is 23:30 the day before in the Marquesas (-09:30)
        ("Pacific/Marquesas", datetime(2025, 3, 2, 9, 0, tzinfo=UTC), -34200, date(2025, 3, 1)),
        # 10:00 UTC is 00:00 the next day on Kiritimati (+14:00)
        ("Pacific/Kiritimati", datetime(2025, 3, 1, 10, 0, tzinfo=UTC), 50400, date(2025, 3, 2)),
        # Paris springs forward at 01:00 UTC on 2025-03-30: +01:00 before, +02:00 after
        ("Europe/Paris", datetime(2025, 3, 30, 0, 59, tzinfo=UTC), 3600, date(2025, 3, 30)),
        ("Europe/Paris", datetime(2025, 3, 30, 1, 0, tzinfo=UTC), 7200, date(2025, 3, 30)),
        # Sydney falls back at 16:00 UTC on 2025-04-05 (03:00 AEDT -> 02:00 AEST)
        ("Australia/Sydney", datetime(2025, 4, 5, 15, 59, tzinfo=UTC), 39600, date(2025, 4, 6)),
        ("Australia/Sydney", datetime(2025, 4, 5, 16, 0, tzinfo=UTC), 36000, date(2025, 4, 6)),
        # Sydney springs forward at 16:00 UTC on 2025-10-04 (02:00 AEST -> 03:00 AEDT)
        ("Australia/Sydney", datetime(2025, 10, 4, 16, 0, tzinfo=UTC), 39600, date(2025, 10, 5)),
    ],
)
def test_a_utc_sample_takes_its_persons_offset_at_that_instant(
    zone: str, instant: datetime, offset: int, day: date
) -> None:
    resolved = resolve_offsets(
        _rows(("u", instant, "unknown_utc")), _zones(("u", date(2020, 1, 1), zone, "user"))
    )
    assert resolved["tz_offset_s"].to_list() == [offset]
    assert resolved["time"].to_list() == [instant]  # the instant itself never moves
    assert resolved.select(local_day_expr()).item() == day
    assert resolved["offset_source"].to_list() == ["user"]


@pytest.mark.parametrize(
    ("zone", "wall", "utc"),
    [
        ("Asia/Kathmandu", datetime(2025, 3, 2, 0, 15), datetime(2025, 3, 1, 18, 30)),
        ("Pacific/Marquesas", datetime(2025, 3, 1, 23, 30), datetime(2025, 3, 2, 9, 0)),
        # 02:30 does not exist in Paris on 2025-03-30: read with the offset before the gap (+1)
        ("Europe/Paris", datetime(2025, 3, 30, 2, 30), datetime(2025, 3, 30, 1, 30)),
        # 02:30 happens twice in Sydney on 2025-04-06: the first (daylight, +11)
        ("Australia/Sydney", datetime(2025, 4, 6, 2, 30), datetime(2025, 4, 5, 15, 30)),
    ],
)
def test_a_wall_clock_sample_gets_its_instant_from_the_zone(
    zone: str, wall: datetime, utc: datetime
) -> None:
    resolved = resolve_offsets(
        _rows(("u", wall.replace(tzinfo=UTC), "unknown_wall")),
        _zones(("u", date(2020, 1, 1), zone, "inferred")),
    )
    assert resolved["time"].to_list() == [utc.replace(tzinfo=UTC)]
    assert resolved.select(local_day_expr()).item() == wall.date()
    assert resolved["offset_source"].to_list() == ["inferred"]


def test_the_entry_in_force_on_the_day_applies_and_the_first_covers_earlier_days() -> None:
    zones = _zones(
        ("u", date(2025, 6, 1), "Asia/Tokyo", "user"),
        ("u", date(2025, 9, 1), "America/New_York", "user"),
    )
    rows = _rows(
        ("u", datetime(2025, 1, 10, 12, tzinfo=UTC), "unknown_utc"),
        ("u", datetime(2025, 7, 10, 12, tzinfo=UTC), "unknown_utc"),
        ("u", datetime(2025, 9, 10, 12, tzinfo=UTC), "unknown_utc"),
        ("u", datetime(2025, 9, 10, 12, tzinfo=UTC), "vendor"),
        ("nobody", datetime(2025, 9, 10, 12, tzinfo=UTC), "unknown_utc"),
    )
    resolved = resolve_offsets(rows, zones).sort("record_id")
    assert resolved["tz_offset_s"].to_list() == [32400, 32400, -14400, 0, 0]
    assert resolved["offset_source"].to_list() == ["user", "user", "user", "vendor", "default"]


def test_a_zone_is_learned_from_offsets_across_a_dst_change_and_a_journey() -> None:
    observed = [
        (date(2025, 3, 28), 3600),
        (date(2025, 3, 29), 3600),
        (date(2025, 3, 30), 7200),
        (date(2025, 3, 31), 7200),
        (date(2025, 4, 2), 20700),
        (date(2025, 4, 3), 20700),
    ]
    assert infer_zones(observed) == [
        (date(2025, 3, 28), "Europe/Paris"),
        (date(2025, 4, 2), "Asia/Kathmandu"),
    ]
    # the person's own zone is preferred among those that explain the offsets
    assert infer_zones(observed[:4], prefer="Europe/Berlin") == [
        (date(2025, 3, 28), "Europe/Berlin")
    ]
    # southern hemisphere: Adelaide is +10:30 in January and +09:30 in July
    assert infer_zones([(date(2025, 1, 5), 37800), (date(2025, 7, 5), 34200)]) == [
        (date(2025, 1, 5), "Australia/Adelaide")
    ]


def test_nothing_is_learned_while_the_history_explains_the_offsets_or_the_person_set_it() -> None:
    paris = ZoneHistory(((date(2020, 1, 1), "Europe/Paris", "inferred"),))
    dst = [(date(2025, 3, 29), 3600), (date(2025, 3, 30), 7200)]
    assert changed_entries(paris, dst) == []
    moved = [*dst, (date(2025, 4, 2), -14400)]
    assert changed_entries(paris, moved) == [(date(2025, 4, 2), "America/New_York")]
    chosen = ZoneHistory(((date(2020, 1, 1), "Europe/Paris", "user"),))
    assert changed_entries(chosen, moved) == []


def test_the_daily_offset_learned_from_is_the_vendors_most_frequent_one() -> None:
    rows = pl.concat(
        [
            _rows(("u", datetime(2025, 3, 1, 8, tzinfo=UTC), "vendor")).with_columns(
                pl.lit(20700, pl.Int32).alias("tz_offset_s")
            ),
            _rows(("u", datetime(2025, 3, 1, 9, tzinfo=UTC), "vendor")).with_columns(
                pl.lit(20700, pl.Int32).alias("tz_offset_s")
            ),
            _rows(("u", datetime(2025, 3, 1, 10, tzinfo=UTC), "vendor")),
            _rows(("u", datetime(2025, 3, 1, 11, tzinfo=UTC), "day")),  # a day label says nothing
        ]
    )
    assert daily_offsets(rows).rows() == [("u", date(2025, 3, 1), 20700)]
