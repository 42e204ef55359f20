"""Read-only SQL over one person's data: an in-memory DuckDB that holds only their rows.

The caller's rows come from the export service (the same query the REST export runs) as
Arrow tables and are registered as views in a fresh in-memory connection, after external
access (files, network, extensions) and Python replacement scans are switched off and the
configuration is locked. Only one SELECT-type statement runs; a timer interrupts it at the
time limit, and at most `max_rows` rows are fetched.
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine

from api.services.export import Dataset, check_export, parquet_bytes
from indicators import catalogue_frame

MAX_SQL_CHARS = 10_000
# Statement kinds that only read. DESCRIBE / SHOW / SUMMARIZE parse as SELECT.
_READ_ONLY = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
_CONFIG: dict[str, Any] = {
    "enable_external_access": False,  # no files, no URLs, no ATTACH / COPY / INSTALL
    "python_enable_replacements": False,  # no reading Python variables by name
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "threads": 1,
    "memory_limit": "512MB",
}
VIEWS = {"indicator_values": Dataset.INDICATOR_VALUES, "daily_summary": Dataset.DAILY_SUMMARY}


class SqlError(Exception):
    """A query the sandbox refused or DuckDB rejected; the message is safe to show."""


class SqlTimeoutError(SqlError):
    """The query ran past the time limit and was interrupted."""


@dataclass(frozen=True)
class SqlLimits:
    max_rows: int = 200
    timeout_s: float = 10.0
    max_chars: int = 200_000  # the rows' JSON size: a few huge cells cannot flood the model
    max_source_rows: int = 2_000_000


@dataclass(frozen=True)
class SqlAnswer:
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool


def load_user_tables(engine: Engine, user_id: Any, start: date, end: date,
                     max_source_rows: int) -> dict[str, pa.Table]:
    """The caller's rows of each exposed table for days in [start, end] (export service)."""
    tables: dict[str, pa.Table] = {}
    for name, dataset in VIEWS.items():
        check_export(engine, dataset, user_id, start, end, max_source_rows)
        blob = parquet_bytes(engine, dataset, user_id, start, end, max_source_rows)
        tables[name] = pq.read_table(io.BytesIO(blob))
    return tables


def sandbox(tables: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    """A locked-down in-memory connection where `tables` (and the catalogue) are views."""
    con = duckdb.connect(":memory:", config=dict(_CONFIG))
    for name, table in tables.items():
        con.register(name, table)
    con.register("indicators", catalogue_frame().to_arrow())
    con.execute("SET lock_configuration = true")
    return con


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    if len(sql) > MAX_SQL_CHARS:
        raise SqlError(f"the query is longer than {MAX_SQL_CHARS} characters")
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise SqlError(f"the query does not parse: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise SqlError("send exactly one statement")
    if statements[0].type not in _READ_ONLY:
        raise SqlError(f"only SELECT queries may run (this is {statements[0].type.name})")


def run_query(con: duckdb.DuckDBPyConnection, sql: str, limits: SqlLimits) -> SqlAnswer:
    """Run one read-only statement with the row and time limits."""
    check_read_only(con, sql)
    timer = threading.Timer(limits.timeout_s, con.interrupt)
    timer.start()
    try:
        cursor = con.execute(sql)
        fetched = cursor.fetchmany(limits.max_rows + 1)
        columns = [d[0] for d in cursor.description or []]
    except duckdb.InterruptException:
        raise SqlTimeoutError(f"the query ran longer than {limits.timeout_s:g} s and was "
                              "stopped; aggregate more or narrow the days") from None
    except duckdb.Error as exc:
        raise SqlError(_first_line(exc)) from None
    finally:
        timer.cancel()
    rows: list[list[Any]] = []
    size = 0
    for raw in fetched[:limits.max_rows]:
        row = [_jsonable(v) for v in raw]
        size += len(json.dumps(row, default=str))
        if size > limits.max_chars:
            return SqlAnswer(columns=columns, rows=rows, truncated=True)
        rows.append(row)
    return SqlAnswer(columns=columns, rows=rows, truncated=len(fetched) > limits.max_rows)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value
