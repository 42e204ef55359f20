"""Read-only SQL over one person's data: an in-memory DuckDB that holds only their rows.

The caller's rows come from the export service (the same reads the REST export runs: their
own fact files, their daily summaries) as Arrow tables and are registered as views in a fresh
in-memory connection, after external access (files, network, extensions), spilling to disk and
Python replacement scans are switched off and the configuration is locked. Only one statement
runs, and only if DuckDB's parser says it is a SELECT (or an EXPLAIN of one); a timer
interrupts it at the time limit, and at most `max_rows` rows are fetched.
"""

from __future__ import annotations

import io
import json
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine

from api.services.export import Dataset, check_export, indicator_value_table, parquet_bytes
from indicators import catalogue_frame

MAX_SQL_CHARS = 10_000
DEFAULT_MEMORY_MB = 512
# What may run, as DuckDB's parser names it. DESCRIBE / SHOW / SUMMARIZE parse as SELECT.
# EXPLAIN ANALYZE executes its statement, so an EXPLAIN is judged by what it explains.
_READ_ONLY = {"SELECT", "EXPLAIN SELECT", "EXPLAIN ANALYZE SELECT"}
_CONFIG: dict[str, Any] = {
    "enable_external_access": False,  # no files, no URLs, no ATTACH / COPY / INSTALL
    "python_enable_replacements": False,  # no reading Python variables by name
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "threads": 1,
    # No spilling at all. DuckDB's default temp folder is `<cwd>/.tmp`, shared by every
    # connection of the process, and it stays readable (read_blob, glob) even without
    # external access: one user's spilled rows were readable by another, and two spilling
    # queries overwrote each other's files. A private mkdtemp per query would still put
    # people's rows on disk in clear, leave them behind after a crash, and let a query fill
    # the disk; one person's data fits the memory share, and a query that does not gets a
    # clean out-of-memory error. With no temp folder, DuckDB allows no path at all.
    "temp_directory": "",
    "max_temp_directory_size": "0B",
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


def load_user_tables(
    engine: Engine, user_id: Any, start: date, end: date, max_source_rows: int
) -> dict[str, pa.Table]:
    """The caller's rows of each exposed table for days in [start, end] (export service)."""
    tables: dict[str, pa.Table] = {}
    for name, dataset in VIEWS.items():
        check_export(engine, dataset, user_id, start, end, max_source_rows)
        if dataset is Dataset.INDICATOR_VALUES:  # straight from the caller's fact files
            tables[name] = indicator_value_table(engine, user_id, start, end, max_source_rows)
            continue
        blob = parquet_bytes(engine, dataset, user_id, start, end, max_source_rows)
        tables[name] = pq.read_table(io.BytesIO(blob))
    return tables


def sandbox(
    tables: dict[str, pa.Table], memory_mb: int = DEFAULT_MEMORY_MB
) -> duckdb.DuckDBPyConnection:
    """A locked-down in-memory connection where `tables` (and the catalogue) are views; its
    queries may use `memory_mb` MiB and never write to disk."""
    con = duckdb.connect(":memory:", config=_CONFIG | {"memory_limit": f"{memory_mb}MiB"})
    for name, table in tables.items():
        con.register(name, table)
    con.register("indicators", catalogue_frame().to_arrow())
    con.execute("SET lock_configuration = true")
    return con


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but one SELECT (or EXPLAIN [ANALYZE] of one), as DuckDB parses it."""
    if len(sql) > MAX_SQL_CHARS:
        raise SqlError(f"the query is longer than {MAX_SQL_CHARS} characters")
    kind = statement_kind(con, sql)
    if kind not in _READ_ONLY:
        raise SqlError(f"only SELECT queries may run (this is {kind})")


def statement_kind(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """DuckDB's name for the one statement in `sql`: SELECT, COPY, EXPLAIN ANALYZE COPY, ..."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise SqlError(f"the query does not parse: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise SqlError("send exactly one statement")
    tokens = duckdb.tokenize(sql)
    if tokens and _word(sql, tokens[0]) == "PRAGMA":
        return "PRAGMA"  # the parser rewrites some PRAGMAs as SELECTs; refuse the form itself
    statement = statements[0]
    if statement.type != duckdb.StatementType.EXPLAIN:
        return statement.type.name
    options, target = _explained(con, statement.query)
    try:
        return f"{options} {statement_kind(con, target)}"
    except SqlError:
        return f"{options} of something else"


def _explained(con: duckdb.DuckDBPyConnection, explain: str) -> tuple[str, str]:
    """('EXPLAIN' or 'EXPLAIN ANALYZE', the statement explained) of one EXPLAIN statement.

    The grammar is EXPLAIN [ANALYZE | ANALYSE] stmt, or EXPLAIN (option, ...) stmt. Offsets
    come from DuckDB's tokenizer (comments are no tokens). A wrong cut only ever yields text
    that is not one SELECT, which is refused."""
    tokens = duckdb.tokenize(explain)
    label = "EXPLAIN"
    if not tokens or _word(explain, tokens[0]) != "EXPLAIN":
        return label, ""
    tokens = tokens[1:]
    while tokens and _word(explain, tokens[0]) in ("ANALYZE", "ANALYSE"):
        label, tokens = "EXPLAIN ANALYZE", tokens[1:]
    if not tokens:
        return label, ""
    target = explain[tokens[0][0] :]
    if explain[tokens[0][0]] == "(" and not _one_statement(con, target):
        depth = 0
        for i, (offset, kind) in enumerate(tokens):
            if _word(explain, (offset, kind)) in ("ANALYZE", "ANALYSE"):
                label = "EXPLAIN ANALYZE"
            if kind == duckdb.token_type.operator and explain[offset] in "()":
                depth += 1 if explain[offset] == "(" else -1
                if depth == 0:
                    rest = tokens[i + 1 :]
                    return label, explain[rest[0][0] :] if rest else ""
        return label, ""
    return label, target


def _one_statement(con: duckdb.DuckDBPyConnection, sql: str) -> bool:
    try:
        return len(con.extract_statements(sql)) == 1
    except duckdb.Error:
        return False


def _word(sql: str, token: tuple[int, Any]) -> str:
    found = re.match(r"[A-Za-z_]+", sql[token[0] :])
    return found.group(0).upper() if found else ""


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
        raise SqlTimeoutError(
            f"the query ran longer than {limits.timeout_s:g} s and was "
            "stopped; aggregate more or narrow the days"
        ) from None
    except duckdb.OutOfMemoryException:
        raise SqlError(
            "the query needs more memory than a query may use (nothing spills to "
            "disk); aggregate more, select fewer columns or narrow the days"
        ) from None
    except duckdb.Error as exc:
        raise SqlError(_first_line(exc)) from None
    finally:
        timer.cancel()
    rows: list[list[Any]] = []
    size = 0
    for raw in fetched[: limits.max_rows]:
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
