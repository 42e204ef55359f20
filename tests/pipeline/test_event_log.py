"""The instance's event log (dagster.yaml): planned materializations of a range run are written
in batches, and the partitions' status (materialized, failed) reads exactly as with the stock
dagster-postgres storage."""

from __future__ import annotations

import uuid
from datetime import date

import dagster as dg
from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

from mirobody_assets.pipeline.event_log import BatchingPostgresEventLogStorage
from mirobody_assets.pipeline.partitions import PARTITIONS, range_tags

FIRST, LAST = date(2025, 1, 6), date(2025, 1, 8)


def test_a_range_run_plans_and_records_every_partition(
    dagster_instance: dg.DagsterInstance,
) -> None:
    assert isinstance(dagster_instance.event_log_storage, BatchingPostgresEventLogStorage)
    tag = uuid.uuid4().hex[:8]  # this test's own assets: the instance is shared
    users = sorted(f"{tag}-user-{i}" for i in range(4))
    dagster_instance.add_dynamic_partitions("users", users)

    @dg.asset(name=f"ok_{tag}", partitions_def=PARTITIONS,
              backfill_policy=dg.BackfillPolicy.single_run())
    def ok() -> None:
        return None

    @dg.asset(name=f"broken_{tag}", partitions_def=PARTITIONS, deps=[ok],
              backfill_policy=dg.BackfillPolicy.single_run())
    def broken() -> None:
        raise RuntimeError("no data")

    result = dg.materialize([ok, broken], instance=dagster_instance, raise_on_error=False,
                            tags=range_tags(FIRST, LAST, users[0], users[-1]))
    assert not result.success
    planned = dagster_instance.get_records_for_run(
        result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
        limit=1000).records
    wanted = {dg.MultiPartitionKey({"user": u, "date": f"2025-01-0{d}"}) for u in users
              for d in (6, 7, 8)}
    for asset in (ok, broken):
        keys = {r.event_log_entry.dagster_event.partition for r in planned  # type: ignore[union-attr]
                if r.event_log_entry.dagster_event.asset_key == asset.key}  # type: ignore[union-attr]
        assert keys == wanted  # one planned event per partition of each asset
    ok_status = get_and_update_asset_status_cache_value(dagster_instance, ok.key, PARTITIONS)
    broken_status = get_and_update_asset_status_cache_value(dagster_instance, broken.key,
                                                            PARTITIONS)
    assert ok_status is not None and broken_status is not None
    materialized = ok_status.deserialize_materialized_partition_subsets(PARTITIONS)
    failed = broken_status.deserialize_failed_partition_subsets(PARTITIONS)
    assert set(materialized.get_partition_keys()) == wanted
    assert set(failed.get_partition_keys()) == wanted  # the UI shows them as failed
    entry = next(iter(dagster_instance.get_asset_records([broken.key])))
    assert entry.asset_entry.last_run_id == result.run_id
