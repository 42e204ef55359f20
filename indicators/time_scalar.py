"""Parsing one vendor time value: epochs, ISO-8601, local times with offsets or zones, durations.

Every parser returns a UTC instant plus the local offset in seconds, so the user's local day
is always computable. A value that cannot be parsed raises TimeParseError naming the field
and the value; nothing is ever replaced by "now".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Instants outside this window are treated as unit mistakes (ms read as s, or the reverse).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_OFFSET_S = 18 * 3600

EpochUnit = Literal["s", "ms"]
OffsetUnit = Literal["s", "min", "ms"]


class TimeParseError(ValueError):
    """A time, offset, zone or duration value that could not be parsed."""

    def __init__(self, field: str, value: object, reason: str = "unparseable") -> None:
        super().__init__(f"{field}: cannot parse {value!r} ({reason})")
        self.field = field
        self.value = value
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ParsedTime:
    """A UTC instant and the local offset from UTC (seconds) that the user had at it."""

    utc: datetime
    offset_s: int

    @property
    def local(self) -> datetime:
        """The same instant on the user's wall clock (an aware datetime)."""
        return self.utc.astimezone(timezone(timedelta(seconds=self.offset_s)))

    @property
    def local_date(self) -> date:
        """The user's calendar day at this instant."""
        return self.local.date()


_OFFSET = re.compile(r"^(?:(?P<z>[Zz])|(?P<sign>[+-])(?P<h>\d{2})(?::?(?P<m>\d{2}))?)$")
_ISO = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[Tt ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?)?"
    r"(?P<off>[Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)
_DURATION = re.compile(
    r"^(?P<sign>-)?P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def parse_offset(value: object, field: str = "offset", *, unit: OffsetUnit = "s") -> int:
    """Parse a UTC offset to seconds: "+hh:mm", "+hhmm", "+hh", "Z", or a number in `unit`."""
    if isinstance(value, bool):
        raise TimeParseError(field, value, "a boolean is not an offset")
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float):
        if not math.isfinite(value):
            raise TimeParseError(field, value, "not finite")
        seconds = float(value) * {"s": 1, "min": 60, "ms": 0.001}[unit]
    elif isinstance(value, str):
        match = _OFFSET.match(value.strip())
        if match is None:
            raise TimeParseError(field, value, "expected +hh:mm or Z")
        if match["z"]:
            return 0
        minutes = int(match["m"] or 0)
        if minutes >= 60:
            raise TimeParseError(field, value, "minutes must be below 60")
        seconds = (int(match["h"]) * 3600 + minutes * 60) * (-1 if match["sign"] == "-" else 1)
    else:
        raise TimeParseError(field, value, f"unsupported type {type(value).__name__}")
    if seconds != int(seconds) or abs(seconds) > MAX_OFFSET_S:
        raise TimeParseError(field, value, "offset must be whole seconds within +-18h")
    return int(seconds)


def parse_timezone(value: object, field: str = "timezone") -> tzinfo:
    """Resolve an IANA time-zone name (e.g. "Europe/Berlin") or pass a tzinfo through."""
    if isinstance(value, tzinfo):
        return value
    if not isinstance(value, str) or not value.strip():
        raise TimeParseError(field, value, "expected an IANA time-zone name")
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeParseError(field, value, "unknown time zone") from None


def parse_duration(value: object, field: str = "duration") -> timedelta:
    """Parse an ISO-8601 duration such as "PT1H2M3S" or "P1DT30M" (no years or months)."""
    if not isinstance(value, str):
        raise TimeParseError(field, value, "expected an ISO-8601 duration string")
    match = _DURATION.match(value.strip())
    parts = match.groupdict() if match else {}
    if match is None or not any(parts[k] for k in "wdhms") or value.strip().endswith("T"):
        raise TimeParseError(field, value, "expected an ISO-8601 duration like PT1H2M3S")
    total = timedelta(
        weeks=float(parts["w"] or 0),
        days=float(parts["d"] or 0),
        hours=float(parts["h"] or 0),
        minutes=float(parts["m"] or 0),
        seconds=float(parts["s"] or 0),
    )
    return -total if parts["sign"] else total


def parse_date(value: object, field: str = "date") -> date:
    """Parse a calendar date ("YYYY-MM-DD"); a date object passes through."""
    if isinstance(value, datetime):
        raise TimeParseError(field, value, "expected a date, got a datetime")
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise TimeParseError(field, value, "expected YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise TimeParseError(field, value, "expected YYYY-MM-DD") from None


def _check_range(parsed: datetime, field: str, value: object) -> datetime:
    if not EARLIEST <= parsed < LATEST:
        raise TimeParseError(field, value, "outside 1970-2200 (wrong epoch unit?)")
    return parsed


def _from_epoch(value: int | float, field: str, unit: EpochUnit) -> datetime:
    if not math.isfinite(value):
        raise TimeParseError(field, value, "not finite")
    # Integers stay exact; timedelta(milliseconds=int) avoids float rounding of the fraction.
    try:
        elapsed = timedelta(milliseconds=value) if unit == "ms" else timedelta(seconds=value)
    except OverflowError:
        raise TimeParseError(field, value, f"outside 1970-2200 as epoch {unit}") from None
    if not timedelta(0) <= elapsed < LATEST - EARLIEST:
        raise TimeParseError(field, value, f"outside 1970-2200 as epoch {unit}")
    return EARLIEST + elapsed


def _from_iso(value: str, field: str) -> tuple[datetime, int | None]:
    match = _ISO.match(value.strip())
    if match is None:
        raise TimeParseError(field, value, "not ISO-8601")
    fraction = (match["f"] or "0")[:6].ljust(6, "0")  # nanoseconds truncate to microseconds
    try:
        naive = datetime(
            int(match["y"]), int(match["mo"]), int(match["d"]),
            int(match["h"] or 0), int(match["mi"] or 0), int(match["s"] or 0), int(fraction),
        )  # fmt: skip
    except ValueError as exc:
        raise TimeParseError(field, value, str(exc)) from None
    if match["off"] is None:
        return naive, None
    return naive, parse_offset(match["off"], field)


def _offset_at(utc: datetime, zone: tzinfo) -> int:
    offset = utc.astimezone(zone).utcoffset()
    assert offset is not None  # an aware zone always has an offset
    return int(offset.total_seconds())


def parse_time(
    value: object,
    field: str,
    *,
    tz: str | tzinfo | None = None,
    offset: str | int | float | timedelta | None = None,
    epoch_unit: EpochUnit = "s",
    offset_unit: OffsetUnit = "s",
) -> ParsedTime:
    """Parse one vendor time value to a UTC instant plus the user's local offset.

    `value` may be epoch seconds or milliseconds (`epoch_unit`), an ISO-8601 string with or
    without an offset, a date-only string (local midnight), or a datetime.
    The local offset comes from `offset` if given (seconds, minutes via `offset_unit`, or
    "+hh:mm"), else from the IANA zone `tz` at that instant, else from the value's own offset.
    Values without an offset (local wall-clock times, dates) need `offset` or `tz`: a naive
    time is never silently read as UTC or as the server's zone.
    """
    zone = parse_timezone(tz, "tz") if tz is not None else None
    fixed = None if offset is None else parse_offset(offset, f"{field} offset", unit=offset_unit)
    own_offset: int | None
    if isinstance(value, bool) or value is None:
        raise TimeParseError(field, value, "missing or boolean")
    if isinstance(value, int | float):
        utc = _from_epoch(value, field, epoch_unit)
        own_offset = 0
    elif isinstance(value, datetime | str | date):
        if isinstance(value, datetime):
            naive = value.replace(tzinfo=None)
            delta = value.utcoffset()
            own_offset = None if delta is None else int(delta.total_seconds())
        elif isinstance(value, date):
            naive, own_offset = datetime(value.year, value.month, value.day), None
        else:
            naive, own_offset = _from_iso(value, field)
        if own_offset is not None:
            utc = (naive - timedelta(seconds=own_offset)).replace(tzinfo=UTC)
        elif fixed is not None:
            utc = (naive - timedelta(seconds=fixed)).replace(tzinfo=UTC)
        elif zone is not None:
            # fold=0: an ambiguous wall time (clocks going back) reads as the first one.
            utc = naive.replace(tzinfo=zone).astimezone(UTC)
            if utc.astimezone(zone).replace(tzinfo=None) != naive:
                raise TimeParseError(field, value, "local time falls in a DST gap")
        else:
            raise TimeParseError(field, value, "local time without offset; pass tz or offset")
    else:
        raise TimeParseError(field, value, f"unsupported type {type(value).__name__}")
    utc = _check_range(utc, field, value)
    if fixed is not None:
        return ParsedTime(utc, fixed)
    if zone is not None:
        return ParsedTime(utc, _offset_at(utc, zone))
    assert own_offset is not None
    return ParsedTime(utc, own_offset)
