"""Asset metadata shown in the Dagster UI: row counts, table schema and a preview."""

from __future__ import annotations

from typing import Any

import dagster as dg
import polars as pl

_TYPES = {
    pl.String: "string",
    pl.Float64: "float",
    pl.Int32: "int",
    pl.Int64: "int",
    pl.UInt32: "int",
    pl.Date: "date",
}


def table_schema(
    schema: dict[str, pl.DataType], descriptions: dict[str, str] | None = None
) -> dg.TableSchema:
    cols = []
    for name, dtype in schema.items():
        kind = (
            "timestamp" if isinstance(dtype, pl.Datetime) else _TYPES.get(type(dtype), str(dtype))
        )
        cols.append(dg.TableColumn(name, kind, description=(descriptions or {}).get(name)))
    return dg.TableSchema(columns=cols)


def _instance(dtype: Any) -> pl.DataType:
    return dtype() if isinstance(dtype, type) else dtype  # type: ignore[no-any-return]


def descriptions(model: Any) -> dict[str, str]:
    """The column descriptions of a pandera model (shown in the UI's column schema)."""
    return {name: column.description or "" for name, column in model.to_schema().columns.items()}


def column_schema(
    model: Any, extra: dict[str, tuple[pl.DataType, str]] | None = None
) -> dg.TableSchema:
    """The Dagster column schema of a pandera model, with its descriptions (plus `extra`
    stored columns the model does not validate)."""
    columns = model.to_schema().columns
    schema = {name: _instance(column.dtype.type) for name, column in columns.items()}
    texts = descriptions(model)
    for name, (dtype, text) in (extra or {}).items():
        schema[name], texts[name] = dtype, text
    return table_schema(schema, texts)


def frame_metadata(
    frame: pl.DataFrame, schema: dict[str, pl.DataType], preview_rows: int = 10, model: Any = None
) -> dict[str, Any]:
    """Row count, column schema (with the pandera model's descriptions) and a markdown
    preview of the first rows."""
    preview = frame.head(preview_rows)
    header = "| " + " | ".join(preview.columns) + " |"
    rule = "|" + "---|" * len(preview.columns)
    lines = [
        "| " + " | ".join("" if v is None else str(v) for v in row) + " |"
        for row in preview.iter_rows()
    ]
    return {
        "dagster/row_count": dg.MetadataValue.int(frame.height),
        "dagster/column_schema": table_schema(schema, descriptions(model) if model else None),
        "preview": dg.MetadataValue.md("\n".join([header, rule, *lines])),
    }


def failures_metadata(failures: list[Any]) -> dict[str, Any]:
    return {
        "failed user-days": dg.MetadataValue.json(
            [
                {
                    "user": f.user_id,
                    "provider": f.provider,
                    "days": list(f.days),
                    "cause": f.cause,
                    "needs_reauth": f.needs_reauth,
                }
                for f in failures
            ]
        )
    }
