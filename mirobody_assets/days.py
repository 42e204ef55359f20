"""The days Mirobody holds, and the one check every date range from outside goes through.

The pipeline's daily partitions start on `history_start()` and end tomorrow (vendors date by the
person's local day, which can be a day ahead of UTC). The start is the HISTORY_START setting:
`mirobody up` pins it on its first start to the first of the month that the initial history
reaches, so the Dagster UI's partition fill means something; unset elsewhere, it is FIRST_DAY,
the earliest day any deployment may hold. A range that a webhook or a REST call hands in is
clamped to the partitions' days; one that is backwards, wholly outside them, or longer than the
caller's limit is a `DayRangeError` (a 4xx at the edge), never a 500 or minutes of work. No
Dagster here: the API imports this module.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

FIRST_DAY = date(2020, 1, 1)
HISTORY_START_ENV = "HISTORY_START"
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


def history_start(environ: Mapping[str, str] | None = None) -> date:
    """The first day of the pipeline's partitions: HISTORY_START (never before FIRST_DAY), or
    FIRST_DAY when unset.

    Read from the environment directly (also `Settings.history_start`, which validates it):
    the Dagster code location builds its partitions when it is imported.
    """
    raw = (os.environ if environ is None else environ).get(HISTORY_START_ENV, "").strip()
    if not raw:
        return FIRST_DAY
    try:
        return max(date.fromisoformat(raw), FIRST_DAY)
    except ValueError:
        raise ValueError(f"{HISTORY_START_ENV} is not a date (YYYY-MM-DD): {raw[:40]!r}") from None


def initial_history_start(history_days: int, today: date | None = None) -> date:
    """Where a new deployment's partitions start: the first of the month that a new user's
    initial history (the last `history_days` days) reaches."""
    first = (today or datetime.now(UTC).date()) - timedelta(days=history_days - 1)
    return max(first.replace(day=1), FIRST_DAY)


def last_day(today: date | None = None) -> date:
    """The last day a partition exists for: tomorrow in UTC (the partitions' end offset)."""
    return (today or datetime.now(UTC).date()) + timedelta(days=1)


def check_day_range(
    start: date,
    end: date,
    *,
    max_days: int = MAX_RANGE_DAYS,
    today: date | None = None,
    first: date | None = None,
) -> DayRange:
    """`start..end` (inclusive) clamped to the partitions' days (`first`, by default
    history_start(), to tomorrow); raises DayRangeError when it is backwards, lies wholly
    outside those days, or spans more than `max_days` once clamped."""
    if end < start:
        raise DayRangeError("the range ends before it starts")
    first = first or history_start()
    last = last_day(today)
    if end < first:
        raise DayRangeError(
            f"the range ends before {first.isoformat()}, the first day Mirobody holds"
        )
    if start > last:
        raise DayRangeError("the range starts in the future")
    clamped = DayRange(max(start, first), min(end, last))
    if clamped.days > max_days:
        raise DayRangeError(f"at most {max_days} days per request (this range has {clamped.days})")
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
