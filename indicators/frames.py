"""Column names and dtypes of the frames that cross package boundaries (the frame contract).

The pandera models in `indicators.schemas` validate these; this module lets producers build
correctly typed frames (including empty ones) without importing pandera.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import polars as pl

UTC_DATETIME = pl.Datetime("us", "UTC")

INDICATOR_VALUE_COLUMNS: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "indicator": pl.String(),
    "time": UTC_DATETIME,
    "end_time": UTC_DATETIME,
    "tz_offset_s": pl.Int32(),
    "value": pl.Float64(),
    "unit": pl.String(),
    "source": pl.String(),
    "record_id": pl.String(),
    "offset_source": pl.String(),
}
"""Normalised indicator values, one row per measurement, in contract order. `offset_source`
says where `tz_offset_s` came from (indicators.zones.OFFSET_SOURCES); a producer that leaves it
out states its offsets itself ("vendor")."""

INDICATOR_VALUE_KEY = ("user_id", "indicator", "source", "time")
"""The natural key of an indicator value."""

DAILY_SUMMARY_COLUMNS: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "day": pl.Date(),
    "indicator": pl.String(),
    "value": pl.Float64(),
    "unit": pl.String(),
    "source": pl.String(),
    "n_values": pl.UInt32(),
    "sources": pl.String(),
}
"""One row per (user, local day, indicator) after merging sources, in contract order."""

DAILY_SUMMARY_KEY = ("user_id", "day", "indicator")

RAW_RECORD_COLUMNS: dict[str, pl.DataType] = {
    "provider": pl.String(),
    "user_id": pl.String(),
    "record_type": pl.String(),
    "vendor_id": pl.String(),
    "version": pl.String(),
    "content_hash": pl.String(),
    "day": pl.Date(),
    "payload": pl.String(),
}
"""One row per vendor document, as pulled (the raw record envelope)."""

RAW_RECORD_KEY = ("provider", "user_id", "record_type", "vendor_id", "content_hash")
"""Re-pulling identical content yields the same key, so it adds nothing."""


def empty_frame(columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame with these contract columns: `empty_frame(INDICATOR_VALUE_COLUMNS)`."""
    return pl.DataFrame(schema=columns)


def canonical_json(payload: Any) -> str:
    """JSON with sorted keys and no insignificant whitespace: equal content, equal text."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def content_hash(payload: Any) -> str:
    """sha256 hex digest of the canonical JSON of `payload` (the raw envelope's content_hash)."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()
