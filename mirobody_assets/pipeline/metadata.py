"""Asset metadata shown in the Dagster UI: row counts, table schema and a preview."""

from __future__ import annotations

from typing import Any

import dagster as dg
import polars as pl

_TYPES = {pl.String: "string", pl.Float64: "float", pl.Int32: "int", pl.Int64: "int",
          pl.UInt32: "int", pl.Date: "date"}


def table_schema(schema: dict[str, pl.DataType], descriptions: dict[str, str] | None = None
                 ) -> dg.TableSchema:
    cols = []
    for name, dtype in schema.items():
        kind = ("timestamp" if isinstance(dtype, pl.Datetime)
                else _TYPES.get(type(dtype), str(dtype)))
        cols.append(dg.TableColumn(name, kind, description=(descriptions or {}).get(name)))
    return dg.TableSchema(columns=cols)


def frame_metadata(frame: pl.DataFrame, schema: dict[str, pl.DataType],
                   preview_rows: int = 10) -> dict[str, Any]:
    """Row count, column schema and a markdown preview of the first rows."""
    preview = frame.head(preview_rows)
    header = "| " + " | ".join(preview.columns) + " |"
    rule = "|" + "---|" * len(preview.columns)
    lines = ["| " + " | ".join("" if v is None else str(v) for v in row) + " |"
             for row in preview.iter_rows()]
    return {
        "dagster/row_count": dg.MetadataValue.int(frame.height),
        "dagster/column_schema": table_schema(schema),
        "preview": dg.MetadataValue.md("\n".join([header, rule, *lines])),
    }


def failures_metadata(failures: list[Any]) -> dict[str, Any]:
    return {"failed user-days": dg.MetadataValue.json([
        {"user": f.user_id, "provider": f.provider, "days": list(f.days), "cause": f.cause,
         "needs_reauth": f.needs_reauth} for f in failures])}
