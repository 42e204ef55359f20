"""Runs by user shard: shards run side by side and give the tables one run gives; a shard whose
run was killed is retried alone and completes the backfill."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import dagster as dg
import polars as pl
from sqlalchemy import Engine, text

from mirobody_assets.pipeline.partitions import RANGE_START, range_tags
from mirobody_assets.pipeline.resources import MirobodyResource
from tests.support.waiting import wait_until

from .conftest import TODAY

FIRST, LAST = TODAY - timedelta(days=2), TODAY - timedelta(days=1)


def _shard(
    instance: dg.DagsterInstance, mirobody: MirobodyResource, first: str, last: str
) -> subprocess.Popen[bytes]:
    """A run of users first..last in its own process (as the run launcher starts runs)."""
    fields = {
        k: getattr(mirobody, k)
        for k in type(mirobody).model_fields
        if getattr(mirobody, k) is not None
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.run_shard",
            str(instance.root_directory),
            json.dumps(fields),
            json.dumps(range_tags(FIRST, LAST, first, last)),
        ],
        cwd=Path(__file__).resolve().parents[2],
        env=os.environ.copy(),
    )


def _run(
    instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    first: str,
    last: str,
) -> bool:
    return _shard(instance, mirobody, first, last).wait(timeout=600) == 0


def _started(instance: dg.DagsterInstance, first_user: str) -> dg.DagsterRun | None:
    runs = [
        r
        for r in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        if first_user in r.tags.get(RANGE_START, "")
    ]
    return runs[0] if runs else None


def _tables(engine: Engine, mirobody: MirobodyResource, users: list[str]) -> dict[str, list]:
    with engine.connect() as conn:
        daily = conn.execute(
            text(
                "SELECT user_id::text, day, indicator, value, source, n_values FROM daily_summary "
                "WHERE user_id = ANY(CAST(:u AS uuid[])) ORDER BY 1, 2, 3"
            ),
            {"u": users},
        ).all()
    files = [f for u in users for f in mirobody.facts.user_files(u)]
    values = (
        pl.read_parquet(files)
        .drop("day", strict=False)
        .sort("user_id", "indicator", "source", "time")
        .rows()
        if files
        else []
    )
    return {"daily_summary": [tuple(r) for r in daily], "indicator_values": values}


def test_user_shards_run_side_by_side_and_give_the_tables_of_one_run(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    users = [make_user() for _ in range(6)]
    for user, person in zip(users, ("ada", "ben") * 3, strict=True):
        link(user, "oura", person)
    dagster_instance.add_dynamic_partitions("users", users)
    known = [u for u in dagster_instance.get_dynamic_partitions("users") if u in users]
    shards = [(known[0], known[1]), (known[2], known[3])]

    runs = [_shard(dagster_instance, mirobody, *s) for s in shards]  # side by side
    assert [r.wait(timeout=180) for r in runs] == [0, 0]
    # the third shard's run is killed as soon as it starts (its worker died); what run
    # monitoring does for a dead worker frees its pools, and the shard is retried alone
    killed = _shard(dagster_instance, mirobody, known[4], known[5])
    run = wait_until(
        lambda: _started(dagster_instance, known[4]), "the third shard's run", timeout_s=120
    )
    killed.kill()
    killed.wait()
    dagster_instance.report_run_failed(run)
    dagster_instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    assert _run(dagster_instance, mirobody, known[4], known[5])
    sharded = _tables(engine, mirobody, known)
    assert {r[0] for r in sharded["daily_summary"]} == set(known)

    # one run over every user gives the very same tables
    assert _run(dagster_instance, mirobody, known[0], known[-1])
    assert _tables(engine, mirobody, known) == sharded
