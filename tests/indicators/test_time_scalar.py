"""Scalar time parsing: every vendor time format, typed errors, agreement with the stdlib."""

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from indicators.timeutils import (
    ParsedTime,
    TimeParseError,
    parse_date,
    parse_duration,
    parse_offset,
    parse_time,
    parse_timezone,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        # WHOOP: ISO UTC plus a separate "+hh:mm" timezone_offset.
        (
            "2025-03-11T06:02:39.442Z",
            {"offset": "+01:00"},
            (utc(2025, 3, 11, 6, 2, 39, 442000), 3600),
        ),
        ("2025-03-11T06:02:39Z", {"offset": "Z"}, (utc(2025, 3, 11, 6, 2, 39), 0)),
        # Garmin: epoch seconds plus an offset in seconds.
        (1741647600, {"offset": 3600}, (utc(2025, 3, 10, 23), 3600)),
        (1741647600, {"offset": -18000}, (utc(2025, 3, 10, 23), -18000)),
        # Oura: ISO with the local offset; heart-rate rows in UTC.
        ("2025-03-10T23:14:09+01:00", {}, (utc(2025, 3, 10, 22, 14, 9), 3600)),
        (
            "2025-03-11T12:31:21+00:00",
            {"tz": "Europe/Berlin"},
            (utc(2025, 3, 11, 12, 31, 21), 3600),
        ),
        # Fitbit: local time without offset, zone from the profile.
        (
            "2024-01-01T23:58:30.000",
            {"tz": "America/New_York"},
            (utc(2024, 1, 2, 4, 58, 30), -18000),
        ),
        (
            "2025-03-11T07:21:52",
            {"offset": -18_000_000, "offset_unit": "ms"},
            (utc(2025, 3, 11, 12, 21, 52), -18000),
        ),
        # Withings: epoch seconds plus an IANA zone (summer and winter offsets).
        (1741687312, {"tz": "Europe/Berlin"}, (utc(2025, 3, 11, 10, 1, 52), 3600)),
        (1751328000, {"tz": "Europe/Berlin"}, (utc(2025, 7, 1), 7200)),
        # Polar: local start time plus an offset in minutes.
        (
            "2025-03-11T18:02:00",
            {"offset": 60, "offset_unit": "min"},
            (utc(2025, 3, 11, 17, 2), 3600),
        ),
        ("2025-03-11T07:12", {"offset": "+05:30"}, (utc(2025, 3, 11, 1, 42), 19800)),
        # Epoch milliseconds (Oura timestamp_unix, WHOOP signature timestamps).
        (1741647600123, {"epoch_unit": "ms"}, (utc(2025, 3, 10, 23, 0, 0, 123000), 0)),
        # Date-only values are local midnight in the user's zone, not the server's.
        ("2025-03-11", {"tz": "Asia/Tokyo"}, (utc(2025, 3, 10, 15), 32400)),
        (date(2025, 3, 11), {"offset": "-05:00"}, (utc(2025, 3, 11, 5), -18000)),
        # Aware datetimes and nanosecond fractions (truncated to microseconds).
        (
            datetime(2025, 3, 11, 8, tzinfo=timezone(timedelta(hours=2))),
            {},
            (utc(2025, 3, 11, 6), 7200),
        ),
        ("2025-03-11T12:00:00.123456789-05:30", {}, (utc(2025, 3, 11, 17, 30, 0, 123456), -19800)),
    ],
)
def test_vendor_time_formats_parse_to_utc_and_local_offset(
    value: object, kwargs: dict[str, object], expected: tuple[datetime, int]
) -> None:
    assert parse_time(value, "start", **kwargs) == ParsedTime(*expected)  # type: ignore[arg-type]


def test_parsed_time_gives_the_users_local_day() -> None:
    late_evening = parse_time("2025-03-10T23:30:00-05:00", "start")
    assert late_evening.utc.date() == date(2025, 3, 11)
    assert late_evening.local_date == date(2025, 3, 10)


@pytest.mark.parametrize(
    ("value", "kwargs", "reason"),
    [
        ("now", {}, "not ISO-8601"),
        ("", {}, "not ISO-8601"),
        ("2025-02-30T00:00:00Z", {}, "day is out of range"),
        ("2025-03-11T25:00:00Z", {}, "hour must be"),
        ("2025-03-11T07:02:39", {}, "pass tz or offset"),
        ("2025-03-11", {}, "pass tz or offset"),
        (1741647600000, {}, "wrong epoch unit|outside 1970-2200"),
        (-5, {}, "outside 1970-2200"),
        (float("nan"), {}, "not finite"),
        (None, {}, "missing"),
        (True, {}, "boolean"),
        ([2025, 3, 11], {}, "unsupported type"),
        ("2025-03-30T02:30:00", {"tz": "Europe/Berlin"}, "DST gap"),
    ],
)
def test_unparseable_time_raises_a_typed_error_naming_field_and_value(
    value: object, kwargs: dict[str, object], reason: str
) -> None:
    with pytest.raises(TimeParseError, match=reason) as caught:
        parse_time(value, "bedtime_start", **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == "bedtime_start"
    assert caught.value.value == value or value != value  # NaN is not equal to itself
    assert "bedtime_start" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "unit", "seconds"),
    [
        ("+01:00", "s", 3600),
        ("-05:30", "s", -19800),
        ("+0530", "s", 19800),
        ("+09", "s", 32400),
        ("Z", "s", 0),
        (3600, "s", 3600),
        (60, "min", 3600),
        (-300, "min", -18000),
        (-18_000_000, "ms", -18000),
        (timedelta(hours=-3), "s", -10800),
    ],
)
def test_offsets_parse_from_strings_seconds_minutes_and_milliseconds(
    value: object, unit: str, seconds: int
) -> None:
    assert parse_offset(value, unit=unit) == seconds  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value", ["+1:00", "01:00", "+25:00", "+01:75", "UTC+1", 90_000, 1.5, None]
)
def test_invalid_offsets_raise(value: object) -> None:
    with pytest.raises(TimeParseError):
        parse_offset(value, "timezone_offset")


def test_time_zones_resolve_by_iana_name_and_unknown_ones_raise() -> None:
    assert parse_timezone("Europe/Berlin") == ZoneInfo("Europe/Berlin")
    with pytest.raises(TimeParseError, match="unknown time zone"):
        parse_timezone("Mars/Olympus_Mons", "timezone")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PT1H2M3S", timedelta(hours=1, minutes=2, seconds=3)),
        ("PT56M30S", timedelta(seconds=3390)),
        ("PT3H12M", timedelta(hours=3, minutes=12)),
        ("P1DT30M", timedelta(days=1, minutes=30)),
        ("PT0.5S", timedelta(seconds=0.5)),
        ("P2W", timedelta(weeks=2)),
        ("-PT5M", timedelta(minutes=-5)),
    ],
)
def test_iso_durations_parse(value: str, expected: timedelta) -> None:
    assert parse_duration(value, "active_duration") == expected


@pytest.mark.parametrize("value", ["", "P", "PT", "1H", "PT1H2", "P1Y", "P1M", 3600])
def test_invalid_or_calendar_durations_raise(value: object) -> None:
    with pytest.raises(TimeParseError, match="active_duration"):
        parse_duration(value, "active_duration")


def test_dates_parse_and_datetimes_are_not_dates() -> None:
    assert parse_date("2025-03-11", "day") == date(2025, 3, 11)
    with pytest.raises(TimeParseError):
        parse_date("11/03/2025", "day")
    with pytest.raises(TimeParseError):
        parse_date(datetime(2025, 3, 11), "day")


aware_datetimes = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2199, 1, 1),
    timezones=st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)


@given(moment=aware_datetimes, spec=st.sampled_from(["auto", "seconds", "milliseconds"]))
def test_iso_parsing_agrees_with_the_standard_library(moment: datetime, spec: str) -> None:
    text = moment.isoformat(timespec=spec)
    expected = datetime.fromisoformat(text)
    parsed = parse_time(text, "t")
    assert parsed.utc == expected.astimezone(UTC)
    assert parsed.offset_s == expected.utcoffset().total_seconds()  # type: ignore[union-attr]


@given(moment=aware_datetimes)
def test_z_suffix_and_space_separator_agree_with_the_standard_library(moment: datetime) -> None:
    as_utc = moment.astimezone(UTC)
    text = as_utc.replace(tzinfo=None).isoformat(sep=" ") + "Z"
    assert parse_time(text, "t").utc == as_utc


@given(seconds=st.integers(0, 7_000_000_000), offset=st.integers(-50_400, 50_400))
def test_epoch_seconds_agree_with_the_standard_library(seconds: int, offset: int) -> None:
    parsed = parse_time(seconds, "t", offset=offset)
    assert parsed.utc == datetime.fromtimestamp(seconds, UTC)
    assert parsed.local == datetime.fromtimestamp(seconds, timezone(timedelta(seconds=offset)))


@given(millis=st.integers(0, 7_000_000_000_000))
def test_epoch_milliseconds_agree_with_the_standard_library(millis: int) -> None:
    expected = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
    assert parse_time(millis, "t", epoch_unit="ms").utc == expected


ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]


@given(
    local=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)),
    zone_name=st.sampled_from(ZONES),
)
def test_local_times_in_a_zone_agree_with_zoneinfo(local: datetime, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    expected = local.replace(tzinfo=zone)
    assume(expected.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local)  # no gaps
    parsed = parse_time(local.isoformat(), "t", tz=zone_name)
    assert parsed.utc == expected.astimezone(UTC)
    assert parsed.offset_s == expected.utcoffset().total_seconds()  # type: ignore[union-attr]
