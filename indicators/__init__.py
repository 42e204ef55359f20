"""Standard indicators, units, time handling and the frame contracts of Mirobody.

Every other package speaks this vocabulary: providers convert vendor data to catalogue ids and
standard units, the pipeline validates frames with the schemas here, and readers look
indicators up in the catalogue.

- `catalogue`: CATALOGUE, Indicator, get_indicator, search_indicators
- `units`: conversion, convert, to_standard, to_standard_frame
- `timeutils`: parse_time -> ParsedTime(utc, offset_s), and vectorised polars parsers
- `frames` / `schemas`: contract columns, pandera models, split_valid (quarantine)
- `aggregate`: daily_summary
"""

from indicators.aggregate import SourcePriorities, daily_summary
from indicators.catalogue import (
    CATALOGUE,
    Category,
    DayAnchor,
    Indicator,
    Kind,
    Rollup,
    UnknownIndicatorError,
    catalogue_frame,
    get_indicator,
    search_indicators,
)
from indicators.frames import (
    DAILY_SUMMARY_COLUMNS,
    INDICATOR_VALUE_COLUMNS,
    INDICATOR_VALUE_KEY,
    RAW_RECORD_COLUMNS,
    UTC_DATETIME,
    canonical_json,
    content_hash,
    empty_frame,
)
from indicators.schemas import (
    QUARANTINE_REASONS,
    DailySummarySchema,
    FrameContractError,
    IndicatorValueSchema,
    QuarantineSchema,
    RawRecordSchema,
    quarantine_counts,
    split_valid,
)
from indicators.timeutils import (
    ParsedTime,
    ParseResult,
    TimeParseError,
    parse_duration,
    parse_offset,
    parse_time,
)
from indicators.units import (
    IncompatibleUnitsError,
    UnitError,
    UnknownUnitError,
    conversion,
    convert,
    to_standard,
    to_standard_frame,
)

__all__ = [
    "CATALOGUE",
    "DAILY_SUMMARY_COLUMNS",
    "INDICATOR_VALUE_COLUMNS",
    "INDICATOR_VALUE_KEY",
    "QUARANTINE_REASONS",
    "RAW_RECORD_COLUMNS",
    "UTC_DATETIME",
    "Category",
    "DailySummarySchema",
    "DayAnchor",
    "FrameContractError",
    "IncompatibleUnitsError",
    "Indicator",
    "IndicatorValueSchema",
    "Kind",
    "ParseResult",
    "ParsedTime",
    "QuarantineSchema",
    "RawRecordSchema",
    "Rollup",
    "SourcePriorities",
    "TimeParseError",
    "UnitError",
    "UnknownIndicatorError",
    "UnknownUnitError",
    "canonical_json",
    "catalogue_frame",
    "content_hash",
    "conversion",
    "convert",
    "daily_summary",
    "empty_frame",
    "get_indicator",
    "parse_duration",
    "parse_offset",
    "parse_time",
    "quarantine_counts",
    "search_indicators",
    "split_valid",
    "to_standard",
    "to_standard_frame",
]
