"""query_sql's sandbox against the attack probe: no spill folder to read or corrupt, EXPLAIN
judged by what it explains, and a process-wide budget of concurrent queries and memory."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import anyio
import mcp
import pyarrow as pa
import pytest
from mcp_types import CallToolResult, TextContent

from api.mcp import sql_budget
from api.mcp.context import McpDeps
from api.mcp.server import build_server
from api.mcp.sql import SqlAnswer, SqlError, SqlLimits, run_query, sandbox
from api.mcp.sql_budget import SqlBudget, SqlBusyError, budget_for

# Over any small memory share: before the fix DuckDB spilled this to <cwd>/.tmp.
SPILLING = (
    "SELECT count(*), sum(x) FROM (SELECT (i * 7919) % 1000003 AS x, "
    "repeat('secret-of-alice', 8) || i AS s FROM range(2000000) t(i) ORDER BY s)"
)
# A sort whose checksum depends on every row's rank: any corrupted block changes it.
RANKED = (
    "SELECT sum(rn * x) FROM (SELECT x, row_number() OVER (ORDER BY x) AS rn "
    "FROM (SELECT (i * {k}) % 1000003 AS x FROM range(500000) t(i)))"
)
OUT_OF_MEMORY = "needs more memory than a query may use"


def _answer(sql: str, memory_mb: int = 32) -> SqlAnswer | SqlError:
    con = sandbox({"secret": pa.table({"s": ["secret-of-alice"] * 1000})}, memory_mb=memory_mb)
    try:
        return run_query(con, sql, SqlLimits())
    except SqlError as exc:
        return exc
    finally:
        con.close()


def _ranked_checksum(k: int) -> int:
    return sum(
        (rank + 1) * x for rank, x in enumerate(sorted(i * k % 1000003 for i in range(500000)))
    )


def test_a_big_query_spills_nothing_another_query_could_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".tmp").mkdir()  # as if an earlier process had spilled here
    outcome: list[SqlAnswer | SqlError] = []
    spiller = threading.Thread(target=lambda: outcome.append(_answer(SPILLING)))
    probes = [
        "SELECT * FROM read_blob('.tmp/*')",
        "SELECT * FROM glob('.tmp/*')",
        "SELECT * FROM read_text('.tmp/*')",
        "SELECT * FROM read_csv('.tmp/*')",
        f"SELECT * FROM glob('{tmp_path}/.tmp/*')",
        "SELECT * FROM glob('/tmp/**')",
        "SELECT * FROM glob('*')",
        "SELECT * FROM read_blob('/etc/hostname')",
    ]
    spiller.start()
    try:
        while True:
            alive = spiller.is_alive()
            for probe in probes:
                refused = _answer(probe)
                assert isinstance(refused, SqlError), probe
                assert "file system operations are disabled" in str(refused), probe
            if not alive:
                break
    finally:
        spiller.join()
    # Out of memory, cleanly; the folder it would have spilled to does not exist to name.
    assert isinstance(outcome[0], SqlError) and OUT_OF_MEMORY in str(outcome[0])
    assert list(tmp_path.rglob("*")) == [tmp_path / ".tmp"]
    where = _answer(
        "SELECT current_setting('temp_directory'), current_setting('max_temp_directory_size')"
    )
    assert isinstance(where, SqlAnswer) and where.rows == [["", "0 bytes"]]


def test_two_concurrent_big_queries_get_their_own_right_answers() -> None:
    results: dict[int, SqlAnswer | SqlError] = {}
    threads = [
        threading.Thread(
            target=lambda k=k: results.update({k: _answer(RANKED.format(k=k), memory_mb=64)})
        )
        for k in (7919, 104729)
    ]
    failing = [
        threading.Thread(target=lambda k=k: results.update({k: _answer(SPILLING)})) for k in (1, 2)
    ]
    for thread in threads + failing:
        thread.start()
    for thread in threads + failing:
        thread.join()
    for k in (7919, 104729):
        answer = results[k]
        assert isinstance(answer, SqlAnswer), answer
        assert answer.rows == [[_ranked_checksum(k)]]
    for k in (1, 2):
        assert isinstance(results[k], SqlError) and OUT_OF_MEMORY in str(results[k])


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("EXPLAIN ANALYZE COPY (SELECT * FROM secret) TO '.tmp/leak.csv'", "EXPLAIN ANALYZE COPY"),
        ("EXPLAIN ANALYZE COPY (SELECT * FROM secret) TO 'leak.csv'", "EXPLAIN ANALYZE COPY"),
        ("explain /* x */ analyse -- y\n copy secret to '.tmp/leak.csv'", "EXPLAIN ANALYZE COPY"),
        ("EXPLAIN (FORMAT json, ANALYZE) COPY secret TO '.tmp/leak.csv'", "EXPLAIN ANALYZE COPY"),
        ("EXPLAIN COPY secret TO '.tmp/leak.csv'", "EXPLAIN COPY"),
        ("EXPLAIN ANALYZE INSERT INTO secret VALUES ('x')", "EXPLAIN ANALYZE INSERT"),
        ("EXPLAIN CREATE TABLE t AS SELECT 1", "EXPLAIN CREATE"),
        ("EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1", "EXPLAIN ANALYZE CREATE"),
        ("EXPLAIN ANALYZE SET threads = 4", "EXPLAIN ANALYZE SET"),
        ("EXPLAIN PRAGMA version", "EXPLAIN PRAGMA"),
        ("ATTACH '.tmp/other.db'", "ATTACH"),
        ("PRAGMA version", "PRAGMA"),
        ("PRAGMA enable_profiling", "PRAGMA"),
        ("SET memory_limit = '8GB'", "SET"),
        ("RESET memory_limit", "SET"),
        ("COPY secret TO '.tmp/leak.csv'", "COPY"),
        ("EXPORT DATABASE '.tmp/dump'", "EXPORT"),
        ("CALL pragma_version()", "CALL"),
        ("CHECKPOINT", "CALL"),
    ],
)
def test_statements_that_are_not_one_select_are_refused_and_write_nothing(
    sql: str, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".tmp").mkdir()
    refused = _answer(sql)
    assert isinstance(refused, SqlError)
    assert str(refused) == f"only SELECT queries may run (this is {kind})"
    assert list(tmp_path.rglob("*")) == [tmp_path / ".tmp"]


@pytest.mark.parametrize("sql", ["EXPLAIN ATTACH '.tmp/x.db'", "EXPLAIN EXPLAIN SELECT 1"])
def test_explains_that_do_not_parse_are_refused(sql: str) -> None:
    refused = _answer(sql)
    assert isinstance(refused, SqlError) and "does not parse" in str(refused)


@pytest.mark.parametrize(
    ("sql", "first_column"),
    [
        ("SELECT count(*) AS n FROM secret", "n"),
        ("EXPLAIN SELECT count(*) FROM secret", "explain_key"),
        ("EXPLAIN ANALYZE SELECT count(*) FROM secret", "explain_key"),
        ("EXPLAIN (FORMAT json) SELECT 1", "explain_key"),
        ("EXPLAIN (SELECT 1) UNION ALL (SELECT 2)", "explain_key"),
        ("DESCRIBE secret", "column_name"),
        ("SUMMARIZE secret", "column_name"),
        ("SHOW TABLES", "name"),
        ("FROM secret LIMIT 1", "s"),
    ],
)
def test_selects_and_explains_of_selects_still_run(sql: str, first_column: str) -> None:
    answer = _answer(sql)
    assert isinstance(answer, SqlAnswer), answer
    assert answer.columns[0] == first_column and answer.rows


def _call(state: Any, account: Any, sql: str) -> CallToolResult:
    server = build_server(lambda: McpDeps(state, account.user_id))

    async def go() -> CallToolResult:
        async with mcp.Client(server) as client:
            return await client.call_tool(
                "query_sql", {"sql": sql, "start_day": "2025-01-01", "end_day": "2025-01-31"}
            )

    return anyio.run(go)


def _text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def _with_budget(live: Any, queries: int, memory_mb: int) -> Any:
    settings = live.state.settings.model_copy(
        update={"sql_max_concurrent_queries": queries, "sql_memory_budget_mb": memory_mb}
    )
    return dataclasses.replace(live.state, settings=settings)


def test_through_the_tool_the_spill_folder_and_explain_copy_are_refused(
    live: Any, alice: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".tmp").mkdir()
    blob = _call(live.state, alice, "SELECT * FROM read_blob('.tmp/*')")
    assert blob.is_error and "file system operations are disabled" in _text(blob)
    copy = _call(
        live.state, alice, "EXPLAIN ANALYZE COPY (SELECT * FROM daily_summary) TO '.tmp/leak.csv'"
    )
    assert copy.is_error
    assert "only SELECT queries may run (this is EXPLAIN ANALYZE COPY)" in _text(copy)
    assert list(tmp_path.rglob("*")) == [tmp_path / ".tmp"]


def test_each_query_gets_its_share_of_the_memory_budget(live: Any, alice: Any) -> None:
    result = _call(_with_budget(live, 2, 256), alice, "SELECT current_setting('memory_limit')")
    assert not result.is_error and result.structured_content is not None
    assert result.structured_content["rows"] == [["128.0 MiB"]]
    assert SqlBudget(3, 1000).memory_mb_per_query == 333


def test_a_query_beyond_the_concurrency_budget_is_told_the_tool_is_busy(
    live: Any, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _with_budget(live, 1, 96)
    monkeypatch.setattr(sql_budget, "BUSY_WAIT_S", 0.2)
    with budget_for(state.settings).slot():  # another query is running
        busy = _call(state, alice, "SELECT 1")
    assert busy.is_error
    assert _text(busy).endswith(
        "the SQL tool is busy: 1 query is running; try again in a few seconds"
    )
    after = _call(state, alice, "SELECT current_setting('memory_limit')")
    assert not after.is_error and after.structured_content is not None
    assert after.structured_content["rows"] == [["96.0 MiB"]]


def test_a_waiting_query_runs_once_a_slot_frees(
    live: Any, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _with_budget(live, 1, 80)
    monkeypatch.setattr(sql_budget, "BUSY_WAIT_S", 60.0)
    results: list[CallToolResult] = []

    def waiter() -> None:
        results.append(_call(state, alice, "SELECT 42"))

    with budget_for(state.settings).slot():
        thread = threading.Thread(target=waiter)
        thread.start()
        thread.join(timeout=0.3)  # it cannot finish while the only slot is held
        assert not results
    thread.join()
    assert not results[0].is_error and results[0].structured_content is not None
    assert results[0].structured_content["rows"] == [[42]]


def test_the_budget_counts_slots_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql_budget, "BUSY_WAIT_S", 0.05)
    budget = SqlBudget(2, 128)
    with (
        budget.slot(),
        budget.slot(),  # two running queries
        pytest.raises(SqlBusyError, match="2 queries are running"),
        budget.slot(),
    ):
        pass
    with budget.slot():
        pass  # freed again
