"""The pieces of `mirobody up`'s console: the banner's addresses, the "data ready" command a
person can paste, and when a user's history counts as answered."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from mirobody_assets.console import Addresses, banner, first_query
from mirobody_assets.first_sync import spans_history

TODAY = date(2026, 12, 3)


def test_the_banner_names_every_address_and_where_credentials_and_logs_are(
    tmp_path: Path,
) -> None:
    where = Addresses(
        dagster="http://127.0.0.1:3000",
        api="http://127.0.0.1:8000",
        data_dir=tmp_path,
        logs=tmp_path / "logs",
        warehouse=tmp_path / "warehouse.duckdb",
        credentials=tmp_path / "sandbox-users.json",
    )
    text = "\n".join(banner(where, 12.4))
    for expected in (
        "http://127.0.0.1:3000",
        "http://127.0.0.1:8000/docs",
        "http://127.0.0.1:8000/mcp",
        "sandbox-users.json",
        "logs",
        "Ctrl-C",
    ):
        assert expected in text


def test_the_first_query_runs_as_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.sql("CREATE TABLE daily_summary AS SELECT 'steps' AS indicator, 1234.0 AS value")
    monkeypatch.chdir(tmp_path)  # the command names the warehouse relative to here
    command = first_query(warehouse)
    assert "'warehouse.duckdb'" in command
    python = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "python"
    if not python.exists():
        pytest.skip("no project .venv to run the printed command with")
    shown = command.replace(command.split(" ", 1)[0], str(python), 1)
    done = subprocess.run(shown, shell=True, capture_output=True, text=True, check=True)  # noqa: S602
    assert "steps" in done.stdout and "1234.0" in done.stdout


def test_a_history_with_gaps_counts_once_it_spans_the_window() -> None:
    window = [TODAY - timedelta(days=d) for d in range(29, -1, -1)]
    with_gaps = [d for i, d in enumerate(window) if i % 7 != 3]
    assert spans_history(with_gaps, 30, TODAY)
    assert not spans_history(window[15:], 30, TODAY)  # only the second half so far
    assert not spans_history(window[:-3], 30, TODAY)  # nothing recent
    assert not spans_history([], 30, TODAY)
