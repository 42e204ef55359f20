"""Bulk transfer between polars frames and PostgreSQL (COPY, in the caller's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
import psycopg
from psycopg import sql
from sqlalchemy import Connection


def driver_connection(conn: Connection) -> psycopg.Connection[Any]:
    """The psycopg connection under a SQLAlchemy connection (same transaction)."""
    raw = conn.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    return raw


def copy_frame(conn: Connection, table: str, frame: pl.DataFrame,
               columns: Sequence[str] | None = None) -> int:
    """COPY the frame's columns into `table` as CSV; returns the row count.

    polars writes CSV in native code, so this stays fast at millions of rows; nulls are empty
    unquoted fields and empty strings are quoted, which is exactly COPY's CSV convention.
    """
    if frame.height == 0:
        return 0
    cols = list(columns or frame.columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, cols))
    )
    payload = frame.select(cols).write_csv(include_header=False, float_precision=None)
    with driver_connection(conn).cursor() as cur, cur.copy(statement) as copy:
        copy.write(payload.encode("utf-8"))
    return frame.height


def read_frame(conn: Connection, query: str, params: dict[str, Any] | Sequence[Any],
               schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Run a query (psycopg placeholders) and return a frame with this schema."""
    with driver_connection(conn).cursor() as cur:
        cur.execute(query.encode(), params)
        rows = cur.fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row")
