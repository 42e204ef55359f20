"""Materialising user x day partitions end to end from the sandbox vendor cloud."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from sqlalchemy import Engine, text

from mirobody_assets.pipeline import assets
from mirobody_assets.pipeline.assets import ALL_ASSETS
from mirobody_assets.pipeline.partitions import range_tags
from mirobody_assets.pipeline.resources import MirobodyResource

from .conftest import TODAY

FIRST, LAST = TODAY - timedelta(days=3), TODAY - timedelta(days=1)


SNAPSHOT = {
    "raw_records": "user_id::text, provider, record_type, vendor_id, content_hash, day",
    "indicator_values": "user_id, indicator, source, time, end_time, tz_offset_s, day, "
    "value, unit, record_id",
    "daily_summary": "user_id::text, day, indicator, value, unit, source, n_values, sources",
    "quarantined_values": "partition_user::text, partition_day, indicator, source, time, reason",
}


def _snapshot(
    engine: Engine, users: list[str], mirobody: MirobodyResource
) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the users in each table (Postgres, and the fact table's Parquet files),
    without load timestamps, in a stable order."""
    out = {}
    with engine.connect() as conn:
        for table, cols in SNAPSHOT.items():
            if table == "indicator_values":
                continue
            user_col = "partition_user" if table == "quarantined_values" else "user_id"
            rows = conn.execute(
                text(
                    f"SELECT {cols} FROM {table} WHERE {user_col} = ANY(CAST(:u AS uuid[])) "
                    f"ORDER BY {cols}"
                ),
                {"u": users},
            ).all()
            out[table] = [tuple(r) for r in rows]
    names = SNAPSHOT["indicator_values"].split(", ")
    files = [f for u in users for f in mirobody.facts.user_files(u)]
    out["indicator_values"] = (
        pl.read_parquet(files).select(names).sort(names, nulls_last=True).rows() if files else []
    )
    return out


def _materialize(
    instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    users: list[str],
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ALL_ASSETS,
        instance=instance,
        resources={"mirobody": mirobody},
        tags=range_tags(FIRST, LAST, users[0], users[-1]),
        raise_on_error=raise_on_error,
    )


def test_partitions_materialise_end_to_end_and_a_rerun_changes_nothing(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ada, ben = make_user(), make_user()
    for provider in ("whoop", "oura", "garmin"):
        link(ada, provider, "ada")
    for provider in ("withings", "polar", "oura"):
        link(ben, provider, "ben")
    dagster_instance.add_dynamic_partitions("users", [ada, ben])
    with engine.begin() as conn:  # the README's first query finds Ada by her display name
        conn.execute(
            text("UPDATE users SET display_name = 'Ada (sandbox)' WHERE id = :u"), {"u": ada}
        )

    result = _materialize(dagster_instance, mirobody, [ada, ben])
    assert result.success
    first = _snapshot(engine, [ada, ben], mirobody)
    assert first["raw_records"], "nothing was pulled"
    providers = {r[1] for r in first["raw_records"]}
    assert providers == {"whoop", "oura", "garmin", "withings", "polar"}
    run_days = {FIRST + timedelta(days=i) for i in range(3)}
    assert {r[1] for r in first["daily_summary"]} == run_days
    # every stored value lies in a partition of the run, for both users
    assert {r[6] for r in first["indicator_values"]} == run_days
    assert {r[0] for r in first["indicator_values"]} == {ada, ben}

    # the re-run works one user at a time (as a long backfill does, in chunks of users)
    monkeypatch.setattr(assets, "USERS_PER_CHUNK", 1)
    again = _materialize(dagster_instance, mirobody, [ada, ben])
    assert again.success
    assert _snapshot(engine, [ada, ben], mirobody) == first
    written = {
        m.asset_key.to_user_string(): m.materialization.metadata["rows_written"].value
        for m in again.get_asset_materialization_events()
        if "rows_written" in m.materialization.metadata
    }
    assert written["indicator_values"] == len(first["indicator_values"])
    assert written["daily_summary"] == len(first["daily_summary"])

    # the analysts' warehouse holds the same rows, readable from a read-only session
    wh = mirobody.warehouse
    with duckdb.connect(str(wh.duckdb_path), read_only=True) as con:
        n_values = con.sql("SELECT count(*) FROM indicator_values").fetchone()
        n_daily = con.sql("SELECT count(*) FROM daily_summary").fetchone()
        dupes = con.sql(
            "SELECT count(*) FROM (SELECT user_id, indicator, source, time "
            "FROM indicator_values GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()
        users = dict(con.sql("SELECT user_id, providers FROM users").fetchall())
        columns = {r[0] for r in con.sql("DESCRIBE users").fetchall()}
    assert n_values == (len(first["indicator_values"]),)
    assert n_daily == (len(first["daily_summary"]),)
    assert dupes == (0,)
    # analysts find user ids there, without e-mail or secrets
    assert users[ada] == "garmin,oura,whoop" and users[ben] == "oura,polar,withings"
    assert columns == {"user_id", "display_name", "timezone", "created_at", "providers"}
    assert pl.read_parquet(wh.root / "daily_summary" / ada / f"{FIRST:%Y-%m}.parquet").height > 0
    _readme_queries_answer(wh.duckdb_path, ada)


def _readme_queries_answer(duckdb_path: Path, user: str) -> None:
    """The README's five example queries run on the warehouse and return rows."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = re.search(r"Five example queries:\n\n```sql\n(.*?)```", readme, re.S)
    assert block, "README lost its example queries"
    queries = [q.strip() for q in block.group(1).split(";") if q.strip()]
    assert len(queries) == 5
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        for query in queries:
            rows = con.sql(query.replace("<user-id>", user)).fetchall()
            assert rows, f"no rows for: {query.splitlines()[0]}"
