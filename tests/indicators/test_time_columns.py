"""Vectorised time parsing: agreement with the scalar parser and no silent nulls."""

from datetime import UTC, date, datetime, timedelta, timezone

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.timeutils import (
    FAILURE_COLUMNS,
    UTC_DATETIME,
    iso_utc_expr,
    local_day_expr,
    offset_seconds_expr,
    parse_duration,
    parse_duration_column,
    parse_epoch_column,
    parse_iso_column,
    parse_local_column,
    parse_offset_column,
    parse_time,
)


def test_iso_column_with_offsets_parses_to_utc_and_offset_seconds() -> None:
    frame = pl.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "start": [
                "2025-03-10T23:14:09+01:00",
                "2025-03-11T12:31:21.5Z",
                "2025-03-11 07:02-05:00",
                "2025-03-11T07:02:39.000+0530",
            ],
        }
    )
    result = parse_iso_column(frame, "start")
    assert result.failures.height == 0
    assert result.frame.schema["time"] == UTC_DATETIME
    assert result.frame.schema["tz_offset_s"] == pl.Int32
    assert result.frame["time"].to_list() == [
        datetime(2025, 3, 10, 22, 14, 9, tzinfo=UTC),
        datetime(2025, 3, 11, 12, 31, 21, 500000, tzinfo=UTC),
        datetime(2025, 3, 11, 12, 2, tzinfo=UTC),
        datetime(2025, 3, 11, 1, 32, 39, tzinfo=UTC),
    ]
    assert result.frame["tz_offset_s"].to_list() == [3600, 0, -18000, 19800]


def test_unparseable_values_are_reported_with_field_value_and_reason_not_nulled() -> None:
    frame = pl.DataFrame(
        {
            "record_id": ["ok", "garbage", "naive", "feb30", "missing"],
            "start": [
                "2025-03-11T06:00:00Z",
                "now",
                "2025-03-11T06:00:00",
                "2025-02-30T00:00:00Z",
                None,
            ],
        }
    )
    result = parse_iso_column(frame, "start", field="bedtime_start", keep=["record_id"])
    assert result.frame["record_id"].to_list() == ["ok"]
    failures = result.failures
    assert failures.columns == [*FAILURE_COLUMNS, "record_id"]
    assert failures["row"].to_list() == [1, 2, 3, 4]
    assert set(failures["field"]) == {"bedtime_start"}
    assert failures["value"].to_list() == [
        "now",
        "2025-03-11T06:00:00",
        "2025-02-30T00:00:00Z",
        None,
    ]
    assert failures["reason"].to_list()[-1] == "missing"
    assert result.frame.height + failures.height == frame.height


def test_missing_values_can_be_allowed_for_optional_fields() -> None:
    frame = pl.DataFrame({"end": ["2025-03-11T06:00:00Z", None]})
    result = parse_iso_column(frame, "end", time_col="end_time", offset_col=None, allow_null=True)
    assert result.failures.height == 0
    assert result.frame["end_time"].to_list()[1] is None


def test_epoch_columns_parse_seconds_and_milliseconds_and_reject_the_wrong_unit() -> None:
    frame = pl.DataFrame({"ts": [1741647600, 1741647600000]})
    seconds = parse_epoch_column(frame, "ts", unit="s")
    assert seconds.frame["time"].to_list() == [datetime(2025, 3, 10, 23, tzinfo=UTC)]
    assert seconds.failures["value"].to_list() == ["1741647600000"]
    millis = parse_epoch_column(frame, "ts", unit="ms")
    # Seconds read as milliseconds land in January 1970: in range, so the unit must be given.
    assert millis.frame["time"].to_list()[1] == datetime(2025, 3, 10, 23, tzinfo=UTC)


def test_offset_columns_parse_strings_seconds_and_minutes() -> None:
    frame = pl.DataFrame({"tz": ["+01:00", "-05:30", "Z", "+0900", "bogus", "+01:99"]})
    result = parse_offset_column(frame, "tz", field="timezone_offset")
    assert result.frame["tz_offset_s"].to_list() == [3600, -19800, 0, 32400]
    assert result.failures["value"].to_list() == ["bogus", "+01:99"]
    minutes = parse_offset_column(pl.DataFrame({"m": [60, -300, 2000]}), "m", unit="min")
    assert minutes.frame["tz_offset_s"].to_list() == [3600, -18000]
    assert minutes.failures["value"].to_list() == ["2000"]


def test_local_times_with_an_offset_column_become_utc() -> None:
    frame = pl.DataFrame({"start_time": ["2025-03-11T18:02:00"], "offset_s": [3600]})
    result = parse_local_column(frame, "start_time", offset_s_col="offset_s")
    assert result.frame["time"].to_list() == [datetime(2025, 3, 11, 17, 2, tzinfo=UTC)]
    assert result.frame["tz_offset_s"].to_list() == [3600]


def test_local_times_with_per_row_zones_keep_order_and_report_gaps_and_bad_zones() -> None:
    frame = pl.DataFrame(
        {
            "t": ["2024-01-01T23:58:30.000", "2025-03-30T02:30:00", "2025-07-01", "2025-03-11"],
            "zone": ["America/New_York", "Europe/Berlin", "Europe/Berlin", "Mars/Base"],
        }
    )
    result = parse_local_column(frame, "t", tz_col="zone")
    assert result.frame["t"].to_list() == ["2024-01-01T23:58:30.000", "2025-07-01"]
    assert result.frame["time"].to_list() == [
        datetime(2024, 1, 2, 4, 58, 30, tzinfo=UTC),
        datetime(2025, 6, 30, 22, tzinfo=UTC),
    ]
    assert result.frame["tz_offset_s"].to_list() == [-18000, 7200]
    assert result.failures["row"].to_list() == [1, 3]
    assert result.failures["reason"].to_list()[1] == "unknown time zone"


def test_local_column_needs_exactly_one_source_of_offset() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        parse_local_column(pl.DataFrame({"t": ["2025-03-11T00:00:00"]}), "t")


def test_iso_duration_column_parses_to_seconds_and_reports_bad_values() -> None:
    frame = pl.DataFrame({"duration": ["PT56M30S", "PT3H12M", "P1DT0.5S", "PT", "90"]})
    result = parse_duration_column(frame, "duration")
    assert result.frame["duration_s"].to_list() == [3390.0, 11520.0, 86400.5]
    assert result.failures["value"].to_list() == ["PT", "90"]


def test_local_day_shifts_the_utc_instant_by_the_offset() -> None:
    frame = pl.DataFrame(
        {"time": [datetime(2025, 3, 10, 23, 30, tzinfo=UTC)] * 2, "tz_offset_s": [3600, -18000]}
    )
    days = frame.select(local_day_expr()).to_series().to_list()
    assert days == [date(2025, 3, 11), date(2025, 3, 10)]


def test_a_missing_column_is_a_typed_error() -> None:
    with pytest.raises(Exception, match="missing"):
        parse_iso_column(pl.DataFrame({"x": ["a"]}), "start")


aware = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2199, 1, 1),
    timezones=st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)


@settings(max_examples=50, deadline=None)
@given(
    moments=st.lists(aware, min_size=1, max_size=30), spec=st.sampled_from(["auto", "milliseconds"])
)
def test_vectorised_iso_parsing_agrees_with_the_scalar_parser(
    moments: list[datetime], spec: str
) -> None:
    texts = [m.isoformat(timespec=spec) for m in moments]
    result = parse_iso_column(pl.DataFrame({"t": texts}), "t")
    expected = [parse_time(text, "t") for text in texts]
    assert result.frame["time"].to_list() == [p.utc for p in expected]
    assert result.frame["tz_offset_s"].to_list() == [p.offset_s for p in expected]


@settings(max_examples=50, deadline=None)
@given(
    durations=st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 23), st.integers(0, 59), st.integers(0, 59)),
        min_size=1,
        max_size=20,
    )
)
def test_vectorised_durations_agree_with_the_scalar_parser(
    durations: list[tuple[int, int, int, int]],
) -> None:
    texts = [f"P{d}DT{h}H{m}M{s}S" for d, h, m, s in durations]
    result = parse_duration_column(pl.DataFrame({"d": texts}), "d")
    expected = [parse_duration(text, "d").total_seconds() for text in texts]
    assert result.frame["d_s"].to_list() == expected


def test_expressions_return_null_rather_than_guessing() -> None:
    frame = pl.DataFrame({"s": ["2025-03-11T06:00:00", "+25:00"]})
    out = frame.select(iso_utc_expr("s").alias("t"), offset_seconds_expr("s").alias("o"))
    assert out.row(0) == (None, None)
    assert out.row(1) == (None, None)


def test_the_fixed_position_fast_path_agrees_with_the_general_parsers() -> None:
    from indicators.time_columns import (
        _general_iso_offset,
        _general_iso_utc,
        iso_offset_expr,
        normalise_iso_expr,
    )

    texts = [
        "2024-10-10T01:01:59+02:00",
        "2024-10-10T01:01:59.5+02:00",
        "2024-10-10T01:01:59.123Z",
        "2024-10-10T01:01:59.123456789-05:30",
        "2024-12-31T23:55:00Z",
        "2024-03-10T02:30:00-08:00",
        "2024-10-10 01:01:59+02:00",
        "2024-10-10T01:01+02:00",
        "2024-10-10T01:01:59+0200",
        "2024-10-10T01:01:59z",
        " 2024-10-10T01:01:59Z ",
        "2024-02-30T01:01:59Z",
        "2024-10-10T25:01:59Z",
        "2024-10-10T01:01:59",
        "not a time",
        "",
        None,
        "2024-10-10T01:01:59+19:00",
        "2024-10-10T01:01:59.Z",
    ]
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    fast = frame.select(iso_utc_expr("t").alias("i"), iso_offset_expr("t").alias("o"))
    general = frame.select(
        _general_iso_utc(normalise_iso_expr("t")).alias("i"),
        _general_iso_offset(normalise_iso_expr("t")).alias("o"),
    )
    assert fast.rows() == general.rows()
    assert fast.row(1) == (datetime(2024, 10, 9, 23, 1, 59, 500_000, tzinfo=UTC), 7200)
    assert fast.row(3) == (datetime(2024, 10, 10, 6, 31, 59, 123_456, tzinfo=UTC), -19800)
