"""Time utilities: one import for scalar parsing and the vectorised polars helpers.

Scalar: `parse_time(value, field, tz=..., offset=...) -> ParsedTime(utc, offset_s)`,
`parse_offset`, `parse_timezone`, `parse_duration`, `parse_date`.
Expressions (null where invalid): `iso_utc_expr`, `iso_offset_expr`, `iso_local_expr`,
`epoch_utc_expr`, `offset_seconds_expr`, `normalise_iso_expr`, `local_to_utc_expr`,
`local_day_expr`, `iso_duration_seconds_expr`.
Frames (rows that parsed + failures with field, value, reason): `parse_iso_column`,
`parse_epoch_column`, `parse_offset_column`, `parse_local_column`, `parse_duration_column`.
"""

from indicators.frames import UTC_DATETIME
from indicators.time_columns import (
    epoch_utc_expr,
    iso_duration_seconds_expr,
    iso_local_expr,
    iso_offset_expr,
    iso_utc_expr,
    local_day_expr,
    local_to_utc_expr,
    normalise_iso_expr,
    offset_seconds_expr,
)
from indicators.time_frames import (
    FAILURE_COLUMNS,
    ParseResult,
    parse_duration_column,
    parse_epoch_column,
    parse_iso_column,
    parse_local_column,
    parse_offset_column,
)
from indicators.time_scalar import (
    ParsedTime,
    TimeParseError,
    parse_date,
    parse_duration,
    parse_offset,
    parse_time,
    parse_timezone,
)

__all__ = [
    "FAILURE_COLUMNS",
    "UTC_DATETIME",
    "ParseResult",
    "ParsedTime",
    "TimeParseError",
    "epoch_utc_expr",
    "iso_duration_seconds_expr",
    "iso_local_expr",
    "iso_offset_expr",
    "iso_utc_expr",
    "local_day_expr",
    "local_to_utc_expr",
    "normalise_iso_expr",
    "offset_seconds_expr",
    "parse_date",
    "parse_duration",
    "parse_duration_column",
    "parse_epoch_column",
    "parse_iso_column",
    "parse_local_column",
    "parse_offset",
    "parse_offset_column",
    "parse_time",
    "parse_timezone",
]
