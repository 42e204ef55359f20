"""The instance's event log (dagster.yaml): planned materializations of a range run are written
in batches (counted: one statement, not one per partition), a batch failing half-way leaves
nothing for Dagster's one-by-one fallback to duplicate, and the partitions' status
(materialized, failed) reads exactly as with the stock dagster-postgres storage."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import dagster as dg
import pytest
from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value
from sqlalchemy import event

from mirobody_assets.pipeline.event_log import BatchingPostgresEventLogStorage
from mirobody_assets.pipeline.partitions import PARTITIONS, range_tags

FIRST, LAST = date(2025, 1, 6), date(2025, 1, 8)
PLANNED = dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED


@contextmanager
def planned_inserts(instance: dg.DagsterInstance) -> Iterator[list[int]]:
    """The INSERTs into event_logs that carry planned events: each one's row count."""
    seen: list[int] = []

    def count(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if not statement.lstrip().upper().startswith("INSERT INTO EVENT_LOGS"):
            return
        values = parameters.values() if isinstance(parameters, dict) else parameters
        rows = sum(1 for v in values if v == PLANNED.value)
        if rows:
            seen.append(rows)

    engine = instance.event_log_storage._engine  # type: ignore[attr-defined]
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _range_run(instance: dg.DagsterInstance, users: list[str]) -> tuple[dg.AssetsDefinition, str]:
    """One single-run materialization of a fresh asset over users x FIRST..LAST."""
    instance.add_dynamic_partitions("users", users)

    @dg.asset(
        name=f"asset_{uuid.uuid4().hex[:8]}",
        partitions_def=PARTITIONS,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def fresh() -> None:
        return None

    result = dg.materialize(
        [fresh], instance=instance, tags=range_tags(FIRST, LAST, users[0], users[-1])
    )
    assert result.success
    return fresh, result.run_id


def _planned_partitions(instance: dg.DagsterInstance, run_id: str) -> list[object]:
    records = instance.get_records_for_run(run_id, of_type=PLANNED, limit=1000).records
    return [r.event_log_entry.dagster_event.partition for r in records]  # type: ignore[union-attr]


def test_planned_events_of_a_range_run_go_in_one_statement(
    dagster_instance: dg.DagsterInstance,
) -> None:
    users = sorted(f"{uuid.uuid4().hex[:8]}-user-{i}" for i in range(4))
    with planned_inserts(dagster_instance) as inserts:
        _, run_id = _range_run(dagster_instance, users)
    assert len(_planned_partitions(dagster_instance, run_id)) == 12  # 4 users x 3 days
    assert inserts == [12]  # the batch path ran: one multi-row insert, no per-event fallback


def test_a_batch_failing_half_way_is_stored_once_by_the_fallback(
    dagster_instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    storage = dagster_instance.event_log_storage
    stock = storage._store_asset_event  # type: ignore[attr-defined]
    failures: list[str] = []

    def fail_first_entry_update(conn: Any, entry: Any, event_id: int) -> None:
        # After the events and their tags were written in this batch: as late as it gets.
        if not failures and entry.get_dagster_event().event_type is PLANNED:
            failures.append("planned")
            raise RuntimeError("injected: asset entry update failed")
        stock(conn, entry, event_id)

    monkeypatch.setattr(storage, "_store_asset_event", fail_first_entry_update)
    users = sorted(f"{uuid.uuid4().hex[:8]}-user-{i}" for i in range(4))
    with planned_inserts(dagster_instance) as inserts:
        _, run_id = _range_run(dagster_instance, users)
    assert failures == ["planned"]
    assert inserts[0] == 12 and inserts[1:] == [1] * 12  # the batch, then Dagster's fallback
    planned = _planned_partitions(dagster_instance, run_id)
    assert len(planned) == len(set(planned)) == 12  # each partition planned exactly once


def test_a_range_run_plans_and_records_every_partition(
    dagster_instance: dg.DagsterInstance,
) -> None:
    assert isinstance(dagster_instance.event_log_storage, BatchingPostgresEventLogStorage)
    tag = uuid.uuid4().hex[:8]  # this test's own assets: the instance is shared
    users = sorted(f"{tag}-user-{i}" for i in range(4))
    dagster_instance.add_dynamic_partitions("users", users)

    @dg.asset(
        name=f"ok_{tag}", partitions_def=PARTITIONS, backfill_policy=dg.BackfillPolicy.single_run()
    )
    def ok() -> None:
        return None

    @dg.asset(
        name=f"broken_{tag}",
        partitions_def=PARTITIONS,
        deps=[ok],
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def broken() -> None:
        raise RuntimeError("no data")

    result = dg.materialize(
        [ok, broken],
        instance=dagster_instance,
        raise_on_error=False,
        tags=range_tags(FIRST, LAST, users[0], users[-1]),
    )
    assert not result.success
    planned = dagster_instance.get_records_for_run(
        result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, limit=1000
    ).records
    wanted = {
        dg.MultiPartitionKey({"user": u, "date": f"2025-01-0{d}"}) for u in users for d in (6, 7, 8)
    }
    for asset in (ok, broken):
        keys = {
            r.event_log_entry.dagster_event.partition
            for r in planned  # type: ignore[union-attr]
            if r.event_log_entry.dagster_event.asset_key == asset.key
        }  # type: ignore[union-attr]
        assert keys == wanted  # one planned event per partition of each asset
    ok_status = get_and_update_asset_status_cache_value(dagster_instance, ok.key, PARTITIONS)
    broken_status = get_and_update_asset_status_cache_value(
        dagster_instance, broken.key, PARTITIONS
    )
    assert ok_status is not None and broken_status is not None
    materialized = ok_status.deserialize_materialized_partition_subsets(PARTITIONS)
    failed = broken_status.deserialize_failed_partition_subsets(PARTITIONS)
    assert set(materialized.get_partition_keys()) == wanted
    assert set(failed.get_partition_keys()) == wanted  # the UI shows them as failed
    entry = next(iter(dagster_instance.get_asset_records([broken.key])))
    assert entry.asset_entry.last_run_id == result.run_id


def test_two_runs_starting_on_a_new_pool_both_get_its_limit_once(
    dagster_instance: dg.DagsterInstance,
) -> None:
    """Dagster's own initialisation fails the second of two runs starting together
    (dagster-io/dagster#33552) and could give the pool two slots."""
    from concurrent.futures import ThreadPoolExecutor

    storage = dagster_instance.event_log_storage
    assert isinstance(storage, BatchingPostgresEventLogStorage)
    pool = f"vendor_test_{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(4) as threads:
        results = list(
            threads.map(lambda _: storage.initialize_concurrency_limit_to_default(pool), range(4))
        )
    assert results == [True] * 4
    info = storage.get_concurrency_info(pool)
    assert info.slot_count == 1


def test_a_slot_freed_while_a_step_queued_is_claimed_not_lost(
    dagster_instance: dg.DagsterInstance,
) -> None:
    """Run B finds no free slot, run A frees it, then B queues its step: B must get it."""
    storage = dagster_instance.event_log_storage
    assert isinstance(storage, BatchingPostgresEventLogStorage)
    pool = f"vendor_test_{uuid.uuid4().hex[:8]}"
    storage.initialize_concurrency_limit_to_default(pool)
    run_a, run_b = str(uuid.uuid4()), str(uuid.uuid4())
    assert storage.claim_concurrency_slot(pool, run_a, "raw_oura").is_claimed
    assert not storage.has_unassigned_slots(pool)  # what B saw before queueing
    storage.free_concurrency_slot_for_step(run_a, "raw_oura")
    storage.add_pending_step(pool, run_b, "raw_oura", should_assign=False)  # B queues late
    claim = storage.claim_concurrency_slot(pool, run_b, "raw_oura")
    assert claim.is_claimed
    storage.free_concurrency_slot_for_step(run_b, "raw_oura")
