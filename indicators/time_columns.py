"""Vectorised time parsing for whole frames of vendor records (polars expressions).

Each builder returns null where a value does not parse. Use them through the
`parse_*_column` functions of `indicators.time_frames`, which report every failed row.
"""

from __future__ import annotations

from collections.abc import Callable
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


def _general_iso_utc(text: pl.Expr) -> pl.Expr:
    return text.str.to_datetime(
        _ISO_FORMAT + "%#z", time_unit="us", time_zone="UTC", strict=False
    ).cast(UTC_DATETIME)


def _general_iso_offset(text: pl.Expr) -> pl.Expr:
    # Wall-clock reading minus the UTC instant is the offset; two fast datetime parses beat
    # extracting and decoding the suffix with regular expressions.
    wall_clock = text.str.to_datetime(_ISO_FORMAT, time_unit="us", strict=False, exact=False)
    instant = _general_iso_utc(text).dt.replace_time_zone(None)
    return (wall_clock - instant).dt.total_seconds().cast(pl.Int32)


# What vendors almost always send: "2024-10-10T01:01:59", optional fraction, "+02:00" or "Z".
_CANONICAL = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[+-]\d{2}:\d{2}|Z)$"
_PARTS = pl.Struct({"instant": UTC_DATETIME, "offset": pl.Int32()})


def _canonical_parts(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(instant, offset) of canonical strings by fixed positions: no regex, one fixed-format
    parse of the first 19 characters."""
    zulu = text.str.ends_with("Z")
    tail = text.str.slice(-6)  # "+02:00"
    hours = tail.str.slice(1, 2).cast(pl.Int32, strict=False)
    minutes = tail.str.slice(4, 2).cast(pl.Int32, strict=False)
    sign = pl.when(tail.str.head(1) == "-").then(-1).otherwise(1)
    offset = pl.when(zulu).then(0).otherwise(sign * (hours * 3600 + minutes * 60))
    fraction_len = text.str.len_bytes().cast(pl.Int64) - 20 - pl.when(zulu).then(1).otherwise(6)
    micros = (
        pl.when(fraction_len > 0)
        .then(text.str.slice(20, fraction_len).str.pad_end(6, "0").str.head(6))
        .cast(pl.Int64, strict=False)
        .fill_null(0)
    )
    wall = text.str.slice(0, 19).str.to_datetime("%Y-%m-%dT%H:%M:%S", time_unit="us", strict=False)
    instant = wall + pl.duration(microseconds=micros) - pl.duration(seconds=offset)
    return instant.dt.replace_time_zone("UTC"), offset.cast(pl.Int32)


def _parse_iso(normalised: bool) -> Callable[[pl.Series], pl.Series]:
    def parse(text: pl.Series) -> pl.Series:
        frame = text.rename("t").to_frame()
        instant, offset = _canonical_parts(pl.col("t"))
        canonical = pl.col("t").str.contains(_CANONICAL)
        fast = frame.select(
            pl.when(canonical).then(instant).alias("instant"),
            pl.when(canonical).then(offset).alias("offset"),
        )
        # Only the rows the fixed positions could not read take the general parsers.
        redo = fast.get_column("instant").is_null() & text.is_not_null()
        if redo.any():
            rows = frame.with_row_index("i").filter(redo)
            general = pl.col("t") if normalised else normalise_iso_expr("t")
            slow = rows.select(
                _general_iso_utc(general).alias("instant"),
                _general_iso_offset(general).alias("offset"),
            )
            index = rows.get_column("i")
            fast = fast.with_columns(
                fast.get_column(name).scatter(index, slow.get_column(name))
                for name in ("instant", "offset")
            )
        return fast.select(pl.struct("instant", "offset")).to_series().alias(text.name)

    return parse


def _iso_parts(expr: pl.Expr | str, normalised: bool) -> pl.Expr:
    return _col(expr).map_batches(_parse_iso(normalised), return_dtype=_PARTS, is_elementwise=True)


def iso_utc_expr(expr: pl.Expr | str, *, normalised: bool = False) -> pl.Expr:
    """ISO-8601 strings with an offset or Z to Datetime(us, UTC); null if invalid or naive.

    Canonical strings are read by fixed positions; only the others (a space for "T", no
    seconds, "+0200", blanks...) take the general, normalising parsers."""
    return _iso_parts(expr, normalised).struct.field("instant")


def iso_offset_expr(expr: pl.Expr | str, *, normalised: bool = False) -> pl.Expr:
    """The offset of ISO-8601 strings, as Int32 seconds (null if absent or invalid)."""
    return _iso_parts(expr, normalised).struct.field("offset")


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
