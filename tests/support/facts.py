"""Seeding the fact table (indicator_values, Parquet per user and month) in tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from mirobody_assets.storage.facts import FACT_COLUMNS, fact_store


def write_values(data_dir: Path | str, user_id: str, values: list[dict[str, Any]]) -> int:
    """Store these rows (indicator, source, time, end or end_time, day, value, unit, and
    optionally tz_offset_s, record_id) as the user's values of their days; returns rows."""
    rows = [
        {
            "user_id": user_id,
            "indicator": v["indicator"],
            "source": v["source"],
            "time": v["time"],
            "end_time": v.get("end", v.get("end_time")),
            "tz_offset_s": v.get("tz_offset_s", 0),
            "day": v["day"],
            "value": v["value"],
            "unit": v["unit"],
            "record_id": v.get("record_id"),
            # where the offset came from (the vendor stated it), when the contract has it
            **(
                {"offset_source": v.get("offset_source", "vendor")}
                if "offset_source" in FACT_COLUMNS
                else {}
            ),
        }
        for v in values
    ]
    frame = pl.DataFrame(
        rows, schema={c: t for c, t in FACT_COLUMNS.items() if c in rows[0]} if rows else None
    )
    frame = frame.with_columns(
        pl.lit(None, t).alias(c) for c, t in FACT_COLUMNS.items() if c not in frame.columns
    )
    parts = frame.select("user_id", "day").unique()
    written, _ = fact_store(Path(data_dir)).replace_partitions(frame, parts)
    return written
