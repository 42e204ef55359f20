"""Export of the caller's own data as CSV (streamed) or Parquet.

Indicator values come from the caller's own fact files (only the months asked for are
opened); daily summaries and raw records from Postgres, streamed from a server-side cursor."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, text

from api.errors import InvalidRequestError
from mirobody_assets.storage.facts import facts_of


class Dataset(StrEnum):
    INDICATOR_VALUES = "indicator_values"
    DAILY_SUMMARY = "daily_summary"
    RAW_RECORDS = "raw_records"


class ExportFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"


# Fixed column lists per dataset (user_id is implied: it is always the caller).
_QUERIES: dict[Dataset, tuple[list[str], str]] = {
    Dataset.INDICATOR_VALUES: (
        [
            "indicator",
            "source",
            "time",
            "end_time",
            "tz_offset_s",
            "day",
            "value",
            "unit",
            "record_id",
        ],
        "",
    ),  # read from the fact files, see _fact_rows
    Dataset.DAILY_SUMMARY: (
        ["indicator", "day", "value", "unit", "source", "sources", "n_values"],
        "SELECT indicator, day, value, unit, source, sources, n_values FROM daily_summary "
        "WHERE user_id = :user AND day BETWEEN :start AND :end ORDER BY day, indicator",
    ),
    Dataset.RAW_RECORDS: (
        [
            "provider",
            "record_type",
            "vendor_id",
            "version",
            "content_hash",
            "day",
            "fetched_at",
            "payload",
        ],
        "SELECT provider, record_type, vendor_id, version, content_hash, day, fetched_at, "
        "CAST(payload AS text) AS payload FROM raw_records "
        "WHERE user_id = :user AND day BETWEEN :start AND :end ORDER BY day, id",
    ),
}
BATCH = 5000
_TS = pa.timestamp("us", tz="UTC")
_SCHEMAS: dict[Dataset, pa.Schema] = {
    Dataset.INDICATOR_VALUES: pa.schema(
        [
            ("indicator", pa.string()),
            ("source", pa.string()),
            ("time", _TS),
            ("end_time", _TS),
            ("tz_offset_s", pa.int32()),
            ("day", pa.date32()),
            ("value", pa.float64()),
            ("unit", pa.string()),
            ("record_id", pa.string()),
        ]
    ),
    Dataset.DAILY_SUMMARY: pa.schema(
        [
            ("indicator", pa.string()),
            ("day", pa.date32()),
            ("value", pa.float64()),
            ("unit", pa.string()),
            ("source", pa.string()),
            ("sources", pa.string()),
            ("n_values", pa.int32()),
        ]
    ),
    Dataset.RAW_RECORDS: pa.schema(
        [
            ("provider", pa.string()),
            ("record_type", pa.string()),
            ("vendor_id", pa.string()),
            ("version", pa.string()),
            ("content_hash", pa.string()),
            ("day", pa.date32()),
            ("fetched_at", _TS),
            ("payload", pa.string()),
        ]
    ),
}


def _fact_rows(
    engine: Engine, user_id: uuid.UUID, start: date, end: date, max_rows: int
) -> pl.DataFrame:
    columns, _ = _QUERIES[Dataset.INDICATOR_VALUES]
    return (
        facts_of(engine)
        .scan_user(str(user_id), start, end)
        .select(columns)
        .sort("indicator", "time", "source")
        .head(max_rows)
        .collect()
    )


def indicator_value_table(
    engine: Engine, user_id: uuid.UUID, start: date, end: date, max_rows: int
) -> pa.Table:
    """The caller's indicator values of local days start..end as Arrow, in the export's
    columns and types."""
    table = _fact_rows(engine, user_id, start, end, max_rows).to_arrow()
    return table.cast(_SCHEMAS[Dataset.INDICATOR_VALUES])


def _rows(
    engine: Engine, dataset: Dataset, user_id: uuid.UUID, start: date, end: date, max_rows: int
) -> Iterator[list[tuple[Any, ...]]]:
    if dataset is Dataset.INDICATOR_VALUES:
        frame = _fact_rows(engine, user_id, start, end, max_rows)
        for offset in range(0, frame.height, BATCH):
            yield frame.slice(offset, BATCH).rows()
        return
    _, sql = _QUERIES[dataset]
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
            text(sql + " LIMIT :cap"),
            {"user": user_id, "start": start, "end": end, "cap": max_rows},
        )
        for batch in result.partitions(BATCH):
            yield [tuple(r) for r in batch]


def check_export(
    engine: Engine, dataset: Dataset, user_id: uuid.UUID, start: date, end: date, max_rows: int
) -> None:
    """Refuse before streaming: a bad range, or more rows than one export may hold."""
    if end < start:
        raise InvalidRequestError("end_day must not be before start_day")
    table = dataset.value
    if dataset is Dataset.INDICATOR_VALUES:
        n = facts_of(engine).scan_user(str(user_id), start, end).select(pl.len()).collect().item()
        if n > max_rows:
            raise InvalidRequestError(
                f"more than {max_rows} rows: narrow the range", code="export_too_large"
            )
        return
    with engine.connect() as conn:
        n = conn.execute(
            text(
                f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE user_id = :user "  # noqa: S608
                "AND day BETWEEN :start AND :end LIMIT :cap) AS t"
            ),
            {"user": user_id, "start": start, "end": end, "cap": max_rows + 1},
        ).scalar_one()
    if n > max_rows:
        raise InvalidRequestError(
            f"more than {max_rows} rows: narrow the range", code="export_too_large"
        )


def csv_chunks(
    engine: Engine, dataset: Dataset, user_id: uuid.UUID, start: date, end: date, max_rows: int
) -> Iterator[bytes]:
    """CSV text in chunks, header first; streamed straight from a server-side cursor."""
    columns, _ = _QUERIES[dataset]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for batch in _rows(engine, dataset, user_id, start, end, max_rows):
        writer.writerows(batch)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue().encode()


def parquet_bytes(
    engine: Engine, dataset: Dataset, user_id: uuid.UUID, start: date, end: date, max_rows: int
) -> bytes:
    """One Parquet file (a row group per batch)."""
    columns, _ = _QUERIES[dataset]
    schema = _SCHEMAS[dataset]
    sink = io.BytesIO()
    if dataset is Dataset.INDICATOR_VALUES:
        pq.write_table(indicator_value_table(engine, user_id, start, end, max_rows), sink)
        return sink.getvalue()
    with pq.ParquetWriter(sink, schema) as writer:
        for batch in _rows(engine, dataset, user_id, start, end, max_rows):
            writer.write_table(
                pa.Table.from_pylist(
                    [dict(zip(columns, r, strict=True)) for r in batch], schema=schema
                )
            )
    return sink.getvalue()
