"""The raw-record envelope the pipeline stores: one row per vendor document."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from indicators.frames import RAW_RECORD_COLUMNS as RAW_SCHEMA
from indicators.frames import canonical_json


@dataclass(frozen=True)
class RawRecord:
    """One vendor document (canonical JSON) with the identity the raw store keys it by."""

    provider: str
    user_id: str
    record_type: str
    vendor_id: str
    version: str | None
    day: date
    payload: str

    @property
    def content_hash(self) -> str:
        # Same digest as indicators.frames.content_hash(doc): payload is its canonical JSON.
        return hashlib.sha256(self.payload.encode("utf-8")).hexdigest()


def make_record(
    provider: str,
    user_id: str,
    record_type: str,
    vendor_id: str,
    version: str | None,
    day: date,
    doc: Any,
) -> RawRecord:
    return RawRecord(
        provider,
        user_id,
        record_type,
        str(vendor_id),
        None if version is None else str(version),
        day,
        canonical_json(doc),
    )


def raw_frame(records: Iterable[RawRecord]) -> pl.DataFrame:
    """The raw-record frame, columns in contract order."""
    rows = list(records)
    return pl.DataFrame(
        {
            "provider": [r.provider for r in rows],
            "user_id": [r.user_id for r in rows],
            "record_type": [r.record_type for r in rows],
            "vendor_id": [r.vendor_id for r in rows],
            "version": [r.version for r in rows],
            "content_hash": [r.content_hash for r in rows],
            "day": [r.day for r in rows],
            "payload": [r.payload for r in rows],
        },
        schema=RAW_SCHEMA,
    )
