"""query_sql: the caller's rows only; no files, no writes, bounded rows and time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import duckdb
import mcp
import pyarrow as pa
import pytest
from mcp_types import CallToolResult, TextContent

from api.mcp.sql import SqlError, SqlLimits, SqlTimeoutError, run_query, sandbox

SQL = Callable[..., CallToolResult]


@pytest.fixture
def query(server_for: Callable[[Any], Any], alice: Any) -> SQL:
    def run(sql: str, account: Any = None, **extra: Any) -> CallToolResult:
        async def go() -> CallToolResult:
            async with mcp.Client(server_for(account or alice)) as client:
                return await client.call_tool(
                    "query_sql",
                    {"sql": sql, "start_day": "2025-01-01", "end_day": "2025-12-31", **extra},
                )

        return anyio.run(go)

    return run


def _rows(result: CallToolResult) -> list[list[Any]]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    rows: list[list[Any]] = result.structured_content["rows"]
    return rows


def _refusal(result: CallToolResult) -> str:
    assert result.is_error
    block = result.content[0]
    assert isinstance(block, TextContent) and "Traceback" not in block.text
    return block.text


def test_a_select_over_the_callers_daily_summary(query: SQL) -> None:
    rows = _rows(
        query("SELECT day, value FROM daily_summary WHERE indicator = 'steps' ORDER BY day LIMIT 3")
    )
    assert rows == [["2025-01-01", 1000.0], ["2025-01-02", 1001.0], ["2025-01-03", 1002.0]]
    joined = _rows(
        query(
            "SELECT i.category, count(*) FROM indicator_values v JOIN indicators i "
            "ON i.indicator = v.indicator GROUP BY 1 ORDER BY 1"
        )
    )
    assert joined == [["activity", 14], ["heart", 14 * 48]]


def test_each_user_sees_only_their_own_rows(query: SQL, alice: Any, bob: Any) -> None:
    mine = _rows(query("SELECT count(*), max(value) FROM daily_summary WHERE indicator='steps'"))
    theirs = _rows(
        query("SELECT count(*), max(value) FROM daily_summary WHERE indicator='steps'", account=bob)
    )
    assert mine == [[14, 1013.0]]
    assert theirs == [[3, 90002.0]]
    columns = query("SELECT * FROM indicator_values LIMIT 1").structured_content
    assert columns is not None and "user_id" not in columns["columns"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_parquet('/etc/passwd')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/hostname')",
        "SELECT * FROM glob('/*')",
        "SELECT * FROM 'http://example.org/x.csv'",
    ],
)
def test_files_and_urls_cannot_be_read(query: SQL, sql: str) -> None:
    assert "query refused" in _refusal(query(sql))


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("COPY daily_summary TO '/tmp/leak.csv'", "COPY"),
        ("ATTACH '/tmp/other.db'", "ATTACH"),
        ("INSTALL httpfs", "LOAD"),
        ("LOAD httpfs", "LOAD"),
        ("CREATE TABLE t AS SELECT 1", "CREATE"),
        ("DELETE FROM daily_summary", "DELETE"),
        ("DROP VIEW daily_summary", "DROP"),
        ("SET enable_external_access = true", "SET"),
    ],
)
def test_only_select_statements_run(query: SQL, sql: str, kind: str) -> None:
    text_ = _refusal(query(sql))
    assert "only SELECT queries may run" in text_ and kind in text_


def test_one_statement_at_a_time(query: SQL) -> None:
    assert "exactly one statement" in _refusal(query("SELECT 1; SELECT 2"))
    assert "does not parse" in _refusal(query("SELEC nonsense"))


def test_rows_beyond_the_limit_are_cut_with_a_note(query: SQL) -> None:
    result = query("SELECT * FROM range(5000)", max_rows=10)
    assert len(_rows(result)) == 10
    content = result.structured_content
    assert content is not None and content["truncated"] is True
    assert "first 10 rows" in content["note"]


def test_huge_cells_are_cut_by_the_size_budget(query: SQL) -> None:
    result = query("SELECT repeat('x', 50000) FROM range(10)")
    content = result.structured_content
    assert content is not None and content["truncated"] is True
    assert content["row_count"] == 3 and "first 3 rows" in content["note"]


def test_the_sandbox_itself_refuses_files_even_without_the_statement_check() -> None:
    con = sandbox({"t": pa.table({"a": [1]})})
    try:
        for sql in (
            "SELECT * FROM read_parquet('/etc/passwd')",
            "COPY t TO '/tmp/x.csv'",
            "ATTACH '/tmp/x.db'",
            "INSTALL httpfs",
            "SET enable_external_access = true",
        ):
            with pytest.raises(duckdb.Error):
                con.execute(sql)
    finally:
        con.close()


def test_a_long_query_is_interrupted_at_the_time_limit() -> None:
    con = sandbox({})
    try:
        with pytest.raises(SqlTimeoutError):
            run_query(con, "SELECT count(*) FROM range(1000000000000) a", SqlLimits(timeout_s=0.3))
        with pytest.raises(SqlError, match="longer than"):
            run_query(con, "SELECT '" + "x" * 20_000 + "'", SqlLimits())
    finally:
        con.close()
