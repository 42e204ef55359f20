"""Daily aggregation: golden roll-ups, local days, source merging, and the row-by-row oracle."""

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicators.aggregate import daily_summary, priority_table
from indicators.aggregate_reference import daily_summary_rows
from indicators.frames import DAILY_SUMMARY_COLUMNS, INDICATOR_VALUE_COLUMNS, empty_frame
from indicators.quarantine import FrameContractError
from indicators.schemas import DailySummarySchema

ValuesBuilder = Callable[..., pl.DataFrame]
DAY = date(2025, 3, 11)
# A priority table as the providers declare one (providers.priorities builds the real one):
# test data here, since this layer names no vendor of its own.
PRIORITIES = {
    "*": ("garmin", "garmin.epochs", "polar", "oura", "whoop", "withings"),
    "sleep": ("oura", "whoop", "garmin", "polar", "withings"),
    "body": ("withings", "garmin", "polar", "oura", "whoop"),
}


def one(summary: pl.DataFrame, indicator: str) -> dict[str, object]:
    rows = summary.filter(pl.col("indicator") == indicator).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.parametrize(
    ("indicator", "rows", "expected"),
    [
        (
            "steps",
            [{"value": 100.0}, {"value": 250.0, "hours": 1}, {"value": 50.0, "hours": 2}],
            400.0,
        ),
        (
            "heart_rate",
            [{"value": 60.0}, {"value": 70.0, "hours": 1}, {"value": 95.0, "hours": 2}],
            75.0,
        ),
        ("min_heart_rate", [{"value": 48.0}, {"value": 44.0, "hours": 1}], 44.0),
        ("max_heart_rate", [{"value": 171.0}, {"value": 180.0, "hours": 1}], 180.0),
        # Last by time, not by input order.
        (
            "weight",
            [{"value": 71.0, "hours": 3}, {"value": 70.0}, {"value": 72.0, "hours": 1}],
            71.0,
        ),
        # Duration-weighted: 60 min at 140 and 20 min at 180 -> (140*60 + 180*20) / 80.
        (
            "workout_average_heart_rate",
            [{"value": 140.0, "minutes": 60}, {"value": 180.0, "minutes": 20, "hours": 3}],
            150.0,
        ),
        # Instantaneous rows weigh one second each against a 59-second interval.
        ("stress_level", [{"value": 20.0, "minutes": 1}, {"value": 80.0, "hours": 1}], 21.0),
    ],
    ids=["sum", "mean", "min", "max", "last", "duration_weighted_mean", "weighted_with_samples"],
)
def test_each_roll_up_gives_the_golden_value(
    values: ValuesBuilder, indicator: str, rows: list[dict], expected: float
) -> None:
    frame = values(*({"indicator": indicator} | row for row in rows))
    if indicator == "stress_level":  # a 59 s interval so that the weights are 59 and 1
        frame = frame.with_columns(
            end_time=pl.when(pl.col("end_time").is_not_null()).then(
                pl.col("time") + timedelta(seconds=59)
            )
        )
    row = one(daily_summary(frame), indicator)
    assert row["value"] == pytest.approx(expected)
    assert row["n_values"] == len(rows)
    assert row["day"] == DAY


def test_the_local_day_is_the_utc_time_shifted_by_the_offset(values: ValuesBuilder) -> None:
    late = datetime(2025, 3, 10, 23, 30, tzinfo=UTC)
    frame = values(
        {"time": late, "tz_offset_s": 3600, "value": 5.0, "user_id": "berlin"},
        {"time": late, "tz_offset_s": -18000, "value": 7.0, "user_id": "new_york"},
    )
    days = dict(daily_summary(frame).select("user_id", "day").iter_rows())
    assert days == {"berlin": date(2025, 3, 11), "new_york": date(2025, 3, 10)}


def test_a_night_of_sleep_counts_for_the_day_the_user_wakes_up(values: ValuesBuilder) -> None:
    bedtime = datetime(2025, 3, 10, 22, 14, tzinfo=UTC)  # 23:14 local at +01:00
    frame = values(
        {"indicator": "sleep_duration_deep", "time": bedtime, "minutes": 468, "tz_offset_s": 3600}
    )
    assert one(daily_summary(frame), "sleep_duration_deep")["day"] == DAY


def test_sources_merge_by_the_given_priority_and_record_the_winner(values: ValuesBuilder) -> None:
    frame = values(
        {"indicator": "sleep_duration_deep", "value": 87.0, "source": "whoop", "minutes": 400},
        {"indicator": "sleep_duration_deep", "value": 82.0, "source": "oura", "minutes": 400},
        {"indicator": "steps", "value": 11_000.0, "source": "oura"},
        {"indicator": "steps", "value": 6_000.0, "source": "garmin.fenix7"},
        {"indicator": "steps", "value": 5_400.0, "source": "garmin.fenix7", "hours": 1},
    )
    summary = daily_summary(frame, PRIORITIES)
    sleep, steps = one(summary, "sleep_duration_deep"), one(summary, "steps")
    assert (sleep["source"], sleep["value"], sleep["sources"]) == ("oura", 82.0, "oura,whoop")
    assert (steps["source"], steps["value"], steps["n_values"]) == ("garmin.fenix7", 11_400.0, 2)
    assert steps["sources"] == "garmin.fenix7,oura"


def test_priorities_are_configurable_per_indicator(values: ValuesBuilder) -> None:
    frame = values(
        {"indicator": "steps", "value": 11_000.0, "source": "oura"},
        {"indicator": "steps", "value": 6_000.0, "source": "garmin"},
        {"indicator": "distance", "value": 8_000.0, "source": "oura"},
        {"indicator": "distance", "value": 7_000.0, "source": "garmin"},
    )
    summary = daily_summary(frame, priorities={"steps": ["oura", "garmin"], "*": ["garmin"]})
    assert one(summary, "steps")["source"] == "oura"
    assert one(summary, "distance")["source"] == "garmin"


def test_an_exact_device_entry_outranks_its_provider(values: ValuesBuilder) -> None:
    frame = values(
        {"value": 100.0, "source": "garmin.venu"},
        {"value": 200.0, "source": "garmin.fenix7"},
        {"value": 300.0, "source": "garmin.fenix7", "hours": 1},
    )
    summary = daily_summary(frame, priorities={"*": ["garmin.venu", "garmin"]})
    assert one(summary, "steps")["source"] == "garmin.venu"


def test_unlisted_sources_lose_then_more_rows_then_the_first_name_wins(
    values: ValuesBuilder,
) -> None:
    frame = values(
        {"value": 1.0, "source": "zepp"},
        {"value": 2.0, "source": "zepp", "hours": 1},
        {"value": 3.0, "source": "amazfit"},
        {"value": 4.0, "source": "apple"},
    )
    assert one(daily_summary(frame, priorities={"*": []}), "steps")["source"] == "zepp"
    assert one(daily_summary(frame, priorities={"*": ["apple"]}), "steps")["source"] == "apple"
    tie = frame.filter(pl.col("source") != "zepp")
    assert one(daily_summary(tie, priorities={}), "steps")["source"] == "amazfit"


def test_the_summary_validates_and_an_empty_input_gives_an_empty_summary(
    values: ValuesBuilder,
) -> None:
    summary = daily_summary(values({"value": 5.0}, {"indicator": "heart_rate", "value": 60.0}))
    DailySummarySchema.validate(summary)
    assert summary.schema == pl.Schema(DAILY_SUMMARY_COLUMNS)
    empty = daily_summary(empty_frame(INDICATOR_VALUE_COLUMNS))
    assert empty.height == 0 and empty.schema == pl.Schema(DAILY_SUMMARY_COLUMNS)


def test_an_unknown_indicator_is_refused(values: ValuesBuilder) -> None:
    with pytest.raises(FrameContractError, match="heartbeats"):
        daily_summary(values({"indicator": "heartbeats"}))


def test_garmin_daily_totals_outrank_its_15_minute_epochs(values: ValuesBuilder) -> None:
    epochs = [
        {"indicator": "steps", "value": 100.0, "source": "garmin.epochs", "hours": h / 4}
        for h in range(40)
    ]  # the rest of the day's buckets never arrived
    frame = values({"indicator": "steps", "value": 9_600.0, "source": "garmin"}, *epochs)
    steps = one(daily_summary(frame, PRIORITIES), "steps")
    assert (steps["source"], steps["value"]) == ("garmin", 9_600.0)
    assert steps["sources"] == "garmin,garmin.epochs"


def test_the_priority_table_resolves_indicator_then_category_then_default() -> None:
    table = priority_table({"steps": ["polar"], "sleep": ["oura"], "*": ["garmin"]})
    first = dict(table.filter(pl.col("rank") == 0).select("indicator", "source").iter_rows())
    assert (first["steps"], first["sleep_duration_rem"], first["weight"]) == (
        "polar",
        "oura",
        "garmin",
    )


INDICATORS = [
    "steps",
    "heart_rate",
    "min_heart_rate",
    "max_heart_rate",
    "weight",
    "workout_average_heart_rate",
    "sleep_duration_deep",
    "sleep_efficiency",
]
SOURCES = ["garmin", "garmin.fenix7", "oura", "whoop", "zepp"]
row_strategy = st.fixed_dictionaries(
    {
        "user_id": st.sampled_from(["u1", "u2"]),
        "indicator": st.sampled_from(INDICATORS),
        "minute": st.integers(0, 4 * 24 * 60),
        "duration": st.none() | st.integers(0, 600),
        "tz_offset_s": st.sampled_from([-36_000, -18_000, 0, 3_600, 19_800, 46_800]),
        "value": st.floats(40, 100, allow_nan=False),
        "source": st.sampled_from(SOURCES),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row_strategy, max_size=60))
def test_vectorised_summary_agrees_with_the_row_by_row_reference(rows: list[dict]) -> None:
    start = datetime(2025, 3, 9, tzinfo=UTC)
    records = []
    for number, row in enumerate(rows):
        time = start + timedelta(minutes=row["minute"])
        duration = row["duration"]
        records.append(
            {
                "user_id": row["user_id"],
                "indicator": row["indicator"],
                "time": time,
                "end_time": None if duration is None else time + timedelta(minutes=duration),
                "tz_offset_s": row["tz_offset_s"],
                "value": row["value"],
                "unit": "x",
                "source": row["source"],
                "record_id": str(number),
            }
        )
    frame = pl.DataFrame(records, schema=INDICATOR_VALUE_COLUMNS)
    # The natural key is unique in validated input; the reference relies on it for "last".
    frame = frame.unique(
        ["user_id", "indicator", "source", "time"], keep="first", maintain_order=True
    )
    vectorised = daily_summary(frame, PRIORITIES).drop("unit").to_dicts()
    reference = daily_summary_rows(frame.to_dicts(), PRIORITIES)
    assert len(vectorised) == len(reference)
    for mine, theirs in zip(vectorised, reference, strict=True):
        value, expected = mine.pop("value"), theirs.pop("value")
        theirs.pop("unit")
        assert mine == theirs
        assert math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-9)


def test_a_source_listed_twice_is_ranked_once(values: ValuesBuilder) -> None:
    frame = values({"value": 5.0, "source": "garmin"}, {"value": 6.0, "source": "oura"})
    row = one(daily_summary(frame, priorities={"*": ["oura", "garmin", "oura"]}), "steps")
    assert (row["source"], row["sources"], row["value"]) == ("oura", "garmin,oura", 6.0)


def test_a_null_indicator_or_time_is_refused_not_dropped(values: ValuesBuilder) -> None:
    with pytest.raises(FrameContractError, match="nulls in"):
        daily_summary(values({}).with_columns(indicator=pl.lit(None, pl.String)))
    with pytest.raises(FrameContractError, match="time"):
        daily_summary(values({}).with_columns(time=pl.lit(None, pl.Datetime("us", "UTC"))))
