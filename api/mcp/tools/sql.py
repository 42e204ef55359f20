"""query_sql: read-only SQL over the person's own data, in a sandboxed in-memory DuckDB."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from api.mcp.context import current_caller
from api.mcp.errors import tool_errors
from api.mcp.sql import MAX_SQL_CHARS, SqlError, SqlLimits, load_user_tables, run_query, sandbox
from api.mcp.sql_budget import SqlBusyError, budget_for
from api.mcp.tools import ToolSpec
from api.mcp.tools.common import MAX_DAYS, day_window, truncation_note

DEFAULT_DAYS = 365


class SqlResult(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool = Field(description="True when the query returned more rows than shown.")
    note: str | None = None


@tool_errors
def query_sql(
    sql: Annotated[
        str,
        Field(min_length=1, max_length=MAX_SQL_CHARS, description=("One DuckDB SELECT statement.")),
    ],
    start_day: Annotated[
        date | None,
        Field(
            description=("First day of data to load (YYYY-MM-DD); default: a year before end_day.")
        ),
    ] = None,
    end_day: Annotated[
        date | None, Field(description=("Last day of data to load; default: the person's today."))
    ] = None,
    max_rows: Annotated[int, Field(ge=1, le=1000)] = 200,
) -> SqlResult:
    """Run one read-only DuckDB SELECT over the person's own data, loaded for the days
    start_day..end_day. Tables: `indicator_values` (indicator, source, time, end_time,
    tz_offset_s, day, value, unit, record_id: every measurement in its standard unit),
    `daily_summary` (indicator, day, value, unit, source, sources, n_values: one merged value
    per local day) and `indicators` (the catalogue: indicator, category, kind, standard_unit,
    rollup, ...). Only this person's rows exist here. No files, network or writes; at most
    `max_rows` rows come back, a query is stopped after 10 seconds, and a query needing more
    memory than its share fails (aggregate more). EXPLAIN, DESCRIBE and SUMMARIZE work.
    Example: SELECT day, value FROM daily_summary WHERE indicator = 'steps' ORDER BY day."""
    caller = current_caller()
    with caller.session() as session:
        start, end = day_window(caller.user(session), start_day, end_day, DEFAULT_DAYS)
    if end < start:
        raise ToolError("end_day must not be before start_day")
    if (end - start).days + 1 > MAX_DAYS:
        raise ToolError(f"at most {MAX_DAYS} days of data per query")
    limits = SqlLimits(max_rows=max_rows)
    budget = budget_for(caller.state.settings)
    try:
        # The slot covers the loaded Arrow tables too: they are most of a query's memory.
        with budget.slot():
            tables = load_user_tables(
                caller.state.engine, caller.user_id, start, end, limits.max_source_rows
            )
            con = sandbox(tables, memory_mb=budget.memory_mb_per_query)
            try:
                answer = run_query(con, sql, limits)
            finally:
                con.close()
    except SqlBusyError as exc:
        raise ToolError(str(exc)) from None
    except SqlError as exc:
        raise ToolError(f"query refused: {exc}") from None
    note = (
        truncation_note(
            len(answer.rows),
            "rows",
            "aggregate in SQL, select fewer or shorter columns, or add LIMIT / WHERE",
        )
        if answer.truncated
        else None
    )
    return SqlResult(
        columns=answer.columns,
        rows=answer.rows,
        row_count=len(answer.rows),
        truncated=answer.truncated,
        note=note,
    )


TOOLS = [ToolSpec(query_sql)]
