"""Pandera (polars) models of every frame that crosses a package boundary.

`RawRecordSchema` (vendor documents as pulled), `IndicatorValueSchema` (normalised values)
`DailySummarySchema` (one value per user, local day and indicator) and `QuarantineSchema`
(values refused by `split_valid`, with the reason). Validate with
`Model.validate(frame, lazy=True)`; use `split_valid` first to move bad rows to a quarantine
instead of failing the whole frame.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.engines.polars_engine import DateTime

from indicators.catalogue import CATALOGUE
from indicators.frames import DAILY_SUMMARY_KEY, INDICATOR_VALUE_KEY, RAW_RECORD_KEY
from indicators.quarantine import (
    QUARANTINE_COLUMNS,
    QUARANTINE_REASONS,
    FrameContractError,
    quarantine_counts,
    split_valid,
)
from indicators.time_scalar import MAX_OFFSET_S
from indicators.zones import OFFSET_SOURCES

_UTC = {"time_unit": "us", "time_zone": "UTC"}
_UNITS = {entry.id: entry.unit for entry in CATALOGUE.values()}
_MIN = {entry.id: float(entry.min_value) for entry in CATALOGUE.values()}
_MAX = {entry.id: float(entry.max_value) for entry in CATALOGUE.values()}
SOURCE_PATTERN = r"^[a-z][a-z0-9_]*(\.[^\s]+)?$"


def _standard_unit_matches(data: pa.PolarsData) -> pl.LazyFrame:
    standard = pl.col("indicator").replace_strict(_UNITS, default=None, return_dtype=pl.String)
    return data.lazyframe.select((pl.col("unit") == standard).fill_null(False))


class RawRecordSchema(pa.DataFrameModel):
    """One vendor document as pulled, before any normalisation (the raw record envelope)."""

    provider: str = pa.Field(description="Provider slug, e.g. 'whoop' or 'garmin'.")
    user_id: str = pa.Field(description="Mirobody user id the document belongs to.")
    record_type: str = pa.Field(description="Vendor document type, e.g. 'sleep' or 'dailies'.")
    vendor_id: str = pa.Field(description="The vendor's id of the document.")
    version: str = pa.Field(
        nullable=True, description="Vendor updated-at or version, when the vendor gives one."
    )
    content_hash: str = pa.Field(
        str_matches=r"^[0-9a-f]{64}$",
        description="sha256 hex of the payload's canonical JSON (see frames.content_hash).",
    )
    day: pl.Date = pa.Field(description="The user's local day the document is about.")
    payload: str = pa.Field(description="The vendor document as JSON text.")

    class Config:
        strict = True
        ordered = True
        unique = list(RAW_RECORD_KEY)


class IndicatorValueSchema(pa.DataFrameModel):
    """Normalised indicator values: one measurement per row, in the catalogue's standard unit."""

    user_id: str = pa.Field(description="Mirobody user id.")
    indicator: str = pa.Field(
        isin=sorted(CATALOGUE), description="Catalogue id of the indicator, e.g. 'steps'."
    )
    time: DateTime = pa.Field(
        dtype_kwargs=_UTC, description="UTC instant of a sample, or start of an interval."
    )
    end_time: DateTime = pa.Field(
        nullable=True,
        dtype_kwargs=_UTC,
        description="UTC end of an interval, session or daily summary; null for samples.",
    )
    tz_offset_s: pl.Int32 = pa.Field(
        ge=-MAX_OFFSET_S,
        le=MAX_OFFSET_S,
        description="The user's local offset from UTC at `time`, in seconds.",
    )
    value: pl.Float64 = pa.Field(description="The measurement in the standard unit; finite.")
    unit: str = pa.Field(description="The catalogue's standard unit of the indicator (UCUM).")
    source: str = pa.Field(
        str_matches=SOURCE_PATTERN,
        description="Provider slug, optionally '.device', e.g. 'oura' or 'garmin.fenix7'.",
    )
    record_id: str = pa.Field(description="Id of the vendor record the value came from.")
    offset_source: str = pa.Field(
        isin=[str(s) for s in OFFSET_SOURCES],
        description="Where tz_offset_s came from: the vendor, the vendor's local day label "
        "('day'), the user's time zone ('user', 'inferred') or nothing known ('default': UTC).",
    )

    class Config:
        strict = True
        ordered = True
        unique = list(INDICATOR_VALUE_KEY)

    @pa.dataframe_check(description="unit is the catalogue's standard unit of the indicator")
    @classmethod
    def unit_is_standard(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _standard_unit_matches(data)

    @pa.dataframe_check(description="value is finite and within the catalogue's bounds")
    @classmethod
    def value_is_plausible(cls, data: pa.PolarsData) -> pl.LazyFrame:
        indicator = pl.col("indicator")
        low = indicator.replace_strict(_MIN, default=None, return_dtype=pl.Float64)
        high = indicator.replace_strict(_MAX, default=None, return_dtype=pl.Float64)
        value = pl.col("value")
        ok = value.is_finite() & (value >= low) & (value <= high)
        return data.lazyframe.select(ok.fill_null(False))

    @pa.dataframe_check(description="end_time, when present, is not before time")
    @classmethod
    def end_not_before_start(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("end_time") >= pl.col("time")).fill_null(True))


class DailySummarySchema(pa.DataFrameModel):
    """One value per (user, local day, indicator), rolled up and merged across sources."""

    user_id: str = pa.Field(description="Mirobody user id.")
    day: pl.Date = pa.Field(description="The user's local calendar day.")
    indicator: str = pa.Field(isin=sorted(CATALOGUE), description="Catalogue id.")
    value: pl.Float64 = pa.Field(description="The day's value from the winning source.")
    unit: str = pa.Field(description="The catalogue's standard unit of the indicator.")
    source: str = pa.Field(description="The source whose value won the merge.")
    n_values: pl.UInt32 = pa.Field(
        ge=1, description="How many rows of the winning source were rolled up."
    )
    sources: str = pa.Field(
        description="Comma-joined sorted list of every source that had data that day."
    )

    class Config:
        strict = True
        ordered = True
        unique = list(DAILY_SUMMARY_KEY)

    @pa.dataframe_check(description="unit is the catalogue's standard unit of the indicator")
    @classmethod
    def unit_is_standard(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return _standard_unit_matches(data)

    @pa.dataframe_check(description="value is finite")
    @classmethod
    def value_is_finite(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("value").is_finite().fill_null(False))


class QuarantineSchema(pa.DataFrameModel):
    """Indicator values refused by split_valid, kept with the reason (never dropped)."""

    user_id: str = pa.Field(nullable=True, description="Mirobody user id, as given.")
    indicator: str = pa.Field(nullable=True, description="Indicator id, as given.")
    time: DateTime = pa.Field(nullable=True, dtype_kwargs=_UTC, description="UTC time.")
    end_time: DateTime = pa.Field(nullable=True, dtype_kwargs=_UTC, description="UTC end.")
    tz_offset_s: pl.Int32 = pa.Field(nullable=True, description="Local offset in seconds.")
    value: pl.Float64 = pa.Field(nullable=True, description="The refused value, as given.")
    unit: str = pa.Field(nullable=True, description="Unit, as given.")
    source: str = pa.Field(nullable=True, description="Provider[.device], as given.")
    record_id: str = pa.Field(nullable=True, description="Vendor record the value came from.")
    offset_source: str = pa.Field(nullable=True, description="Where tz_offset_s came from.")
    reason: str = pa.Field(
        isin=list(QUARANTINE_REASONS), description="Why the row was refused (first that applies)."
    )

    class Config:
        strict = True
        ordered = True


__all__ = [
    "QUARANTINE_COLUMNS",
    "QUARANTINE_REASONS",
    "DailySummarySchema",
    "FrameContractError",
    "IndicatorValueSchema",
    "QuarantineSchema",
    "RawRecordSchema",
    "quarantine_counts",
    "split_valid",
]
