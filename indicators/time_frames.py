"""Parse the time fields of whole frames of vendor records, reporting every failed row.

Each `parse_*_column` function returns the rows that parsed (with the new columns) and,
separately, the rows that failed with the field, the value and the reason: nothing is
nulled or dropped in silence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

from indicators.frames import UTC_DATETIME
from indicators.time_columns import (
    epoch_utc_expr,
    iso_duration_seconds_expr,
    iso_local_expr,
    iso_offset_expr,
    iso_utc_expr,
    local_to_utc_expr,
    normalise_iso_expr,
    offset_seconds_expr,
)
from indicators.time_scalar import MAX_OFFSET_S, TimeParseError, parse_timezone

FAILURE_COLUMNS = ("row", "field", "value", "reason")


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Rows whose field parsed (with the new columns) and rows that failed.

    `failures` has `row` (index in the input frame), `field`, `value` (as text), `reason`,
    plus the input columns named in `keep=` (e.g. a record id) to trace each to its record.
    """

    frame: pl.DataFrame
    failures: pl.DataFrame


def _require(df: pl.DataFrame, columns: Sequence[str], field: str | None) -> None:
    for name in columns:
        if name not in df.columns:
            raise TimeParseError(field or name, None, f"column {name!r} is missing")


def _split(
    df: pl.DataFrame,
    source: str,
    field: str | None,
    parsed: dict[str, pl.Expr],
    reason: str,
    *,
    allow_null: bool,
    keep: Sequence[str],
) -> ParseResult:
    """Evaluate `parsed` once, then split off rows where any parsed column is null."""
    _require(df, [source], field)
    clash = set(keep) & set(FAILURE_COLUMNS)
    if clash:
        raise ValueError(f"keep= may not name {sorted(clash)}: failures use those columns")
    is_missing = pl.col(source).is_null()
    all_parsed = pl.all_horizontal([pl.col(name).is_not_null() for name in parsed])
    ok = all_parsed | (is_missing if allow_null else pl.lit(False))
    # parse_local_column numbers rows before splitting by zone; keep that numbering.
    numbered = df if "__row__" in df.columns else df.with_row_index("__row__")
    evaluated = numbered.with_columns(**parsed).with_columns(ok.alias("__ok__"))
    frame = evaluated.filter(pl.col("__ok__")).drop("__ok__")
    if numbered is not df:
        frame = frame.drop("__row__")
    failures = evaluated.filter(~pl.col("__ok__")).select(
        pl.col("__row__").alias("row"),
        pl.lit(field or source).alias("field"),
        pl.col(source).cast(pl.String).alias("value"),
        pl.when(is_missing).then(pl.lit("missing")).otherwise(pl.lit(reason)).alias("reason"),
        *keep,
    )
    return ParseResult(frame, failures)


def parse_iso_column(
    df: pl.DataFrame,
    column: str,
    *,
    time_col: str = "time",
    offset_col: str | None = "tz_offset_s",
    field: str | None = None,
    allow_null: bool = False,
    keep: Sequence[str] = (),
) -> ParseResult:
    """Parse ISO-8601 strings with an offset (or Z) into a UTC time and an Int32 offset column.

    Pass `offset_col=None` to skip the offset (e.g. for an end time). `allow_null=True` lets
    missing values through as null instead of reporting them.
    """
    text = "__iso__"
    parsed = {time_col: iso_utc_expr(text, normalised=True)}
    if offset_col is not None:
        parsed[offset_col] = iso_offset_expr(text, normalised=True)
    _require(df, [column], field)
    # Normalise once into a scratch column that both parsers read.
    with_text = df.with_columns(normalise_iso_expr(column).alias(text))
    result = _split(
        with_text,
        column,
        field,
        parsed,
        "not ISO-8601 with an offset",
        allow_null=allow_null,
        keep=keep,
    )
    return ParseResult(result.frame.drop(text), result.failures)


def parse_epoch_column(
    df: pl.DataFrame,
    column: str,
    *,
    unit: Literal["s", "ms"] = "s",
    time_col: str = "time",
    field: str | None = None,
    allow_null: bool = False,
    keep: Sequence[str] = (),
) -> ParseResult:
    """Parse epoch seconds or milliseconds into a UTC time column (1970-2200 only)."""
    parsed = {time_col: epoch_utc_expr(column, unit)}
    return _split(
        df,
        column,
        field,
        parsed,
        f"not epoch {unit} within 1970-2200",
        allow_null=allow_null,
        keep=keep,
    )


def parse_offset_column(
    df: pl.DataFrame,
    column: str,
    *,
    unit: Literal["hh:mm", "s", "min", "ms"] = "hh:mm",
    offset_col: str = "tz_offset_s",
    field: str | None = None,
    allow_null: bool = False,
    keep: Sequence[str] = (),
) -> ParseResult:
    """Parse UTC offsets ("+hh:mm" strings, or numbers in s/min/ms) into Int32 seconds."""
    if unit == "hh:mm":
        seconds = offset_seconds_expr(column)
    else:
        factor = {"s": 1.0, "min": 60.0, "ms": 0.001}[unit]
        raw = pl.col(column).cast(pl.Float64) * factor
        whole = (raw == raw.round(0)) & (raw.abs() <= MAX_OFFSET_S)
        seconds = pl.when(whole).then(raw).cast(pl.Int32)
    return _split(
        df,
        column,
        field,
        {offset_col: seconds},
        f"not a UTC offset ({unit})",
        allow_null=allow_null,
        keep=keep,
    )


def parse_local_column(
    df: pl.DataFrame,
    column: str,
    *,
    offset_s_col: str | None = None,
    tz: str | None = None,
    tz_col: str | None = None,
    time_col: str = "time",
    offset_col: str = "tz_offset_s",
    field: str | None = None,
    keep: Sequence[str] = (),
) -> ParseResult:
    """Parse wall-clock ISO times without offset (or dates) using an offset or an IANA zone.

    Give exactly one of: `offset_s_col` (a column of offsets in seconds), `tz` (one IANA zone
    for all rows) or `tz_col` (a column of IANA zone names). Ambiguous wall times (clocks
    going back) read as the first occurrence; times inside a DST gap are reported as failures.
    """
    if sum(x is not None for x in (offset_s_col, tz, tz_col)) != 1:
        raise ValueError("give exactly one of offset_s_col, tz or tz_col")
    _require(df, [name for name in (column, offset_s_col, tz_col) if name is not None], field)
    local = iso_local_expr(column)
    if offset_s_col is not None:
        offset = pl.col(offset_s_col).cast(pl.Int32)
        parsed = {time_col: local_to_utc_expr(local, offset), offset_col: offset}
        return _split(
            df, column, field, parsed, "not an ISO-8601 local time", allow_null=False, keep=keep
        )
    # Parse the wall-clock text once into a scratch column; every zone's branch reads it.
    numbered = df.with_row_index("__row__").with_columns(local.alias("__local__"))
    local = pl.col("__local__")
    zones = [tz] if tz is not None else df.get_column(str(tz_col)).unique().to_list()
    results = []
    # polars localises with one zone per call, so loop over the few distinct zones, not rows.
    for zone in zones:
        part = numbered
        if tz is None:
            part = numbered.filter(pl.col(str(tz_col)).eq_missing(zone))
        try:
            parse_timezone(zone, field or str(tz_col))
        except TimeParseError:
            bad = _split(
                part,
                str(tz_col),
                field or str(tz_col),
                {"__never__": pl.lit(None)},
                "unknown time zone",
                allow_null=False,
                keep=keep,
            )
            results.append(ParseResult(part.clear(), bad.failures))
            continue
        utc = local.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        utc = utc.dt.convert_time_zone("UTC").cast(UTC_DATETIME)
        offset = (local - utc.dt.replace_time_zone(None)).dt.total_seconds().cast(pl.Int32)
        results.append(
            _split(
                part,
                column,
                field,
                {time_col: utc, offset_col: offset},
                "not a valid local time in its zone",
                allow_null=False,
                keep=keep,
            )
        )
    return ParseResult(
        pl.concat([r.frame for r in results], how="diagonal_relaxed")
        .sort("__row__")
        .drop("__row__", "__local__"),
        pl.concat([r.failures for r in results], how="diagonal_relaxed").sort("row"),
    )


def parse_duration_column(
    df: pl.DataFrame,
    column: str,
    *,
    seconds_col: str | None = None,
    field: str | None = None,
    allow_null: bool = False,
    keep: Sequence[str] = (),
) -> ParseResult:
    """Parse ISO-8601 durations into a Float64 seconds column (default `<column>_s`)."""
    parsed = {seconds_col or f"{column}_s": iso_duration_seconds_expr(column)}
    return _split(
        df, column, field, parsed, "not an ISO-8601 duration", allow_null=allow_null, keep=keep
    )
