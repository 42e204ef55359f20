"""Bedtime and wake time of a vendor's main sleep: the catalogue's `sleep_start` and
`sleep_end`, as derived columns of a sleep `RecordMapping`.

Representation: each is a session row of the night (`time` = sleep start, `end_time` = sleep
end, `tz_offset_s` = the night's offset), so that, like every sleep indicator, it counts for the
local day the person wakes up on. Its value is a wall-clock reading in minutes from local
midnight of that wake-up day: a bedtime of 23:10 is -50, a wake time of 07:05 is 425. The
daily summary rolls them up as the catalogue says: the earliest bedtime (`min`) and the latest
wake time (`max`) of the main sleeps that ended that day.

Only the main sleep gives them (naps, rest periods and short sleeps would move a day's wake
time to the afternoon). Each instant is read on its own clock: when the vendor gives the end's
own offset (Oura, Polar, Withings' zone), a night across a DST change wakes at the clock time
shown on the wall (07:05 at +02:00 after falling asleep at +01:00), not an hour off."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from providers.formatting import Field

BEDTIME, WAKE_TIME = "_bedtime_min", "_wake_time_min"
SLEEP_CLOCK_FIELDS = (Field(BEDTIME, "sleep_start", "min"), Field(WAKE_TIME, "sleep_end", "min"))
"""The two Fields reading the derived columns of `sleep_clock`."""

_MINUTE_US = 60_000_000


def _wall(instant: pl.Expr, offset_s: pl.Expr) -> pl.Expr:
    """The naive local wall-clock time of a UTC instant at `offset_s`."""
    return instant.dt.replace_time_zone(None) + pl.duration(seconds=offset_s)


def sleep_clock(
    measured: Sequence[str], main: pl.Expr | None = None, end_offset_s: pl.Expr | None = None
) -> dict[str, pl.Expr]:
    """Derived columns (after `time`, `end_time` and `tz_offset_s`) for SLEEP_CLOCK_FIELDS.

    `measured`: the record's duration fields; a record with none of them gives no clock
    times either (so that a payload of an unknown shape still fails as carrying none of the
    mapped fields, rather than passing as a night of bedtime and wake time only).
    `main`: which records are the main sleep (all when None); others give no value.
    `end_offset_s`: the UTC offset at the sleep's end, when the vendor gives it (default:
    the night's `tz_offset_s`). The wake-up day is the one the row is counted on (its end at
    `tz_offset_s`), so value and day always agree."""
    offset = pl.col("tz_offset_s")
    wake_day = _wall(pl.col("end_time"), offset).dt.truncate("1d")
    bedtime = (_wall(pl.col("time"), offset) - wake_day).dt.total_microseconds() / _MINUTE_US
    wake = (
        _wall(pl.col("end_time"), offset if end_offset_s is None else end_offset_s) - wake_day
    ).dt.total_microseconds() / _MINUTE_US
    given = pl.any_horizontal(pl.col(name).is_not_null() for name in measured)
    if main is not None:
        given = given & main
    return {BEDTIME: pl.when(given).then(bedtime), WAKE_TIME: pl.when(given).then(wake)}
