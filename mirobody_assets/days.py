"""The days Mirobody holds, and the one check every date range from outside goes through.

The pipeline's daily partitions start on FIRST_DAY and end tomorrow (vendors date by the
person's local day, which can be a day ahead of UTC). A range that a webhook, a REST call or an
MCP tool hands in is clamped to those days; one that is backwards, wholly outside them, or
longer than the caller's limit is a `DayRangeError` (a 4xx at the edge), never a 500 or minutes
of work. No Dagster here: the API imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

FIRST_DAY = date(2020, 1, 1)
# Three years and a bit: the longest backfill one request may ask for.
MAX_RANGE_DAYS = 3 * 366


class DayRangeError(ValueError):
    """A date range that cannot be served; the message says why and is safe to show."""


@dataclass(frozen=True)
class DayRange:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def last_day(today: date | None = None) -> date:
    """The last day a partition exists for: tomorrow in UTC (the partitions' end offset)."""
    return (today or datetime.now(UTC).date()) + timedelta(days=1)


def check_day_range(start: date, end: date, *, max_days: int = MAX_RANGE_DAYS,
                    today: date | None = None) -> DayRange:
    """`start..end` (inclusive) clamped to FIRST_DAY..tomorrow; raises DayRangeError when it is
    backwards, lies wholly outside those days, or spans more than `max_days` once clamped."""
    if end < start:
        raise DayRangeError("the range ends before it starts")
    last = last_day(today)
    if end < FIRST_DAY:
        raise DayRangeError(f"the range ends before {FIRST_DAY.isoformat()}, the first day "
                            "Mirobody holds")
    if start > last:
        raise DayRangeError("the range starts in the future")
    clamped = DayRange(max(start, FIRST_DAY), min(end, last))
    if clamped.days > max_days:
        raise DayRangeError(f"at most {max_days} days per request (this range has "
                            f"{clamped.days})")
    return clamped


def day_from_epoch(seconds: str | int | float) -> date:
    """The UTC day of an epoch-seconds value from outside; DayRangeError when it is not a
    number or lies outside what a date can hold (no OverflowError, no seconds of CPU)."""
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        raise DayRangeError(f"not an epoch time: {str(seconds)[:40]!r}") from None
    if not -62_135_596_800 <= value <= 253_402_300_799:  # 0001-01-01 .. 9999-12-31 UTC
        raise DayRangeError(f"epoch time out of range: {str(seconds)[:40]!r}")
    return datetime.fromtimestamp(value, UTC).date()
