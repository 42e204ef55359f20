"""Vectorised time parsing for whole frames of vendor records (polars expressions).

Each builder returns null where a value does not parse. Use them through the
`parse_*_column` functions of `indicators.time_frames`, which report every failed row.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

from indicators.frames import UTC_DATETIME
from indicators.time_scalar import EARLIEST, LATEST, MAX_OFFSET_S

_MICROS = {"s": 1_000_000, "ms": 1_000, "us": 1}
_EPOCH_END_S = int((LATEST - EARLIEST).total_seconds())
_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%.f"


def _col(expr: pl.Expr | str) -> pl.Expr:
    return pl.col(expr) if isinstance(expr, str) else expr


def offset_seconds_expr(expr: pl.Expr | str) -> pl.Expr:
    """ "+hh:mm", "+hhmm", "+hh" or "Z" strings to Int32 seconds east of UTC (null if invalid)."""
    parts = (
        _col(expr)
        .str.strip_chars()
        .str.extract_groups(r"^(?:(?<z>[Zz])|(?<sign>[+-])(?<h>\d{2}):?(?<m>\d{2})?)$")
    )
    hours = parts.struct.field("h").cast(pl.Int32)
    minutes = parts.struct.field("m").cast(pl.Int32).fill_null(0)
    sign = pl.when(parts.struct.field("sign") == "-").then(-1).otherwise(1)
    seconds = (
        pl.when(parts.struct.field("z").is_not_null())
        .then(pl.lit(0, pl.Int32))
        .when((minutes < 60) & (hours * 3600 + minutes * 60 <= MAX_OFFSET_S))
        .then(sign * (hours * 3600 + minutes * 60))
    )
    return seconds.cast(pl.Int32)


def normalise_iso_expr(expr: pl.Expr | str) -> pl.Expr:
    """Rewrite legal ISO-8601 variants to the one shape the parsers below read.

    A space for "T", a missing ":ss" and a lower-case "z" are legal (RFC 3339) but chrono's
    strict formats reject them; rewriting once is cheaper than trying several formats.
    """
    text = _col(expr).str.strip_chars().str.replace(r"^(\d{4}-\d{2}-\d{2})[ t]", "${1}T")
    text = text.str.replace(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})([Zz+-]|$)", "${1}:00${2}")
    return text.str.replace("z", "Z", literal=True)


def iso_utc_expr(expr: pl.Expr | str, *, normalised: bool = False) -> pl.Expr:
    """ISO-8601 strings with an offset or Z to Datetime(us, UTC); null if invalid or naive."""
    text = _col(expr) if normalised else normalise_iso_expr(expr)
    return text.str.to_datetime(
        _ISO_FORMAT + "%#z", time_unit="us", time_zone="UTC", strict=False
    ).cast(UTC_DATETIME)


def iso_offset_expr(expr: pl.Expr | str, *, normalised: bool = False) -> pl.Expr:
    """The offset of ISO-8601 strings, as Int32 seconds (null if absent or invalid)."""
    text = _col(expr) if normalised else normalise_iso_expr(expr)
    # Wall-clock reading minus the UTC instant is the offset; two fast datetime parses beat
    # extracting and decoding the suffix with regular expressions.
    wall_clock = text.str.to_datetime(_ISO_FORMAT, time_unit="us", strict=False, exact=False)
    instant = iso_utc_expr(text, normalised=True).dt.replace_time_zone(None)
    return (wall_clock - instant).dt.total_seconds().cast(pl.Int32)


def iso_local_expr(expr: pl.Expr | str) -> pl.Expr:
    """ISO-8601 wall-clock strings without offset (or dates) to naive Datetime(us)."""
    text = normalise_iso_expr(expr)
    text = text.str.replace(r"^(\d{4}-\d{2}-\d{2})$", "${1}T00:00:00")
    return text.str.to_datetime(_ISO_FORMAT, time_unit="us", strict=False)


def epoch_utc_expr(expr: pl.Expr | str, unit: Literal["s", "ms"] = "s") -> pl.Expr:
    """Epoch seconds or milliseconds to Datetime(us, UTC); null outside 1970-2200."""
    value = _col(expr).cast(pl.Float64)
    micros = (value * _MICROS[unit]).round(0)
    in_range = (value >= 0) & (value < _EPOCH_END_S * (_MICROS["s"] // _MICROS[unit]))
    as_int = pl.when(in_range).then(micros).cast(pl.Int64)
    return pl.from_epoch(as_int, time_unit="us").dt.replace_time_zone("UTC")


def local_to_utc_expr(local: pl.Expr | str, offset_s: pl.Expr | str) -> pl.Expr:
    """A naive local wall-clock Datetime minus its offset (seconds), as Datetime(us, UTC)."""
    shifted = _col(local) - pl.duration(seconds=_col(offset_s))
    return shifted.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def local_day_expr(
    time: pl.Expr | str = "time", offset_s: pl.Expr | str = "tz_offset_s"
) -> pl.Expr:
    """The user's local calendar day of a UTC instant: the instant shifted by its offset."""
    shifted = _col(time).dt.replace_time_zone(None) + pl.duration(seconds=_col(offset_s))
    return shifted.dt.date()


def iso_duration_seconds_expr(expr: pl.Expr | str) -> pl.Expr:
    """ISO-8601 durations ("PT1H2M3S", "P1DT30M") to Float64 seconds; null if invalid."""
    text = _col(expr).str.strip_chars()
    parts = text.str.extract_groups(
        r"^P(?:(?<w>\d+(?:\.\d+)?)W)?(?:(?<d>\d+(?:\.\d+)?)D)?"
        r"(?:T(?:(?<h>\d+(?:\.\d+)?)H)?(?:(?<m>\d+(?:\.\d+)?)M)?(?:(?<s>\d+(?:\.\d+)?)S)?)?$"
    )
    weights = {"w": 604_800.0, "d": 86_400.0, "h": 3_600.0, "m": 60.0, "s": 1.0}
    fields = [parts.struct.field(k).cast(pl.Float64) for k in weights]
    total = pl.sum_horizontal(
        [f.fill_null(0.0) * w for f, w in zip(fields, weights.values(), strict=True)]
    )
    any_part = pl.any_horizontal([f.is_not_null() for f in fields])
    return pl.when(any_part & ~text.str.ends_with("T")).then(total)
