"""Dagster's Postgres event log, with planned materializations written in batches.

A run over a range of U users x D days plans one materialization per partition of every asset
in it (U x D x assets events, before the first step starts). dagster-postgres batches
materialization events (with DAGSTER_EVENT_BATCH_SIZE set) but stores planned ones one by
one, each over fresh connections: ~48,000 single inserts for a 200 x 30 backfill of eight
assets, which was most of the run's start-up. This storage writes a batch of planned events
the way dagster-postgres writes a batch of materializations: one multi-row insert, their tag
rows in one statement, and each asset's entry updated once, from its last event (the entry
holds "latest" values only). Everything else is dagster-postgres unchanged.

The batch is one transaction: Dagster catches any exception from `store_event_batch` and
falls back to storing the events one by one, so a failure half-way (say, in the tag rows)
must leave nothing behind, or the fallback would store the planned events twice.

Why not Dagster's own DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS (one planned event per
asset carrying the run's partition subset): as Dagster documents beside that switch, the
partitions of a failed run are then not marked as failed, and the UI's failed partitions
(what a user retries from) matter here. tests/pipeline/test_event_log.py checks both that
failed partitions still show and that the batch path really runs (statements counted).

This leans on dagster-postgres' private helpers (`prepare_insert_event_batch`,
`_store_asset_event_tags`, `_store_asset_event`); they are pinned with dagster==1.13.27, and
the statement-counting test fails if an upgrade makes the batch path fall back silently.

Configured in dagster.yaml as the instance's `event_log_storage`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as db
from dagster import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import ConcurrencyLimitsTable, SqlEventLogStorageTable
from dagster._serdes import ConfigurableClassData
from dagster._utils.concurrency import ConcurrencyClaimStatus
from dagster_postgres.event_log.event_log import PostgresEventLogStorage
from dagster_postgres.utils import pg_url_from_config
from sqlalchemy.dialects.postgresql import insert as pg_insert

_PLANNED = DagsterEventType.ASSET_MATERIALIZATION_PLANNED


class BatchingPostgresEventLogStorage(PostgresEventLogStorage):
    """PostgresEventLogStorage that also stores planned-materialization batches at once."""

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> BatchingPostgresEventLogStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
        )

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        kinds = {event.get_dagster_event().event_type for event in events}
        if kinds != {_PLANNED} or len(events) < 2:
            super().store_event_batch(events)
            return
        statement = self.prepare_insert_event_batch(events)
        # One transaction: if anything below fails, no event row stays for the fallback to
        # duplicate (the index lives in the same database as the events here).
        with self.index_transaction() as conn:
            ids = [
                int(row[0])
                for row in conn.execute(
                    statement.returning(SqlEventLogStorageTable.c.id)
                ).fetchall()
            ]
            last: dict[str, tuple[EventLogEntry, int]] = {}
            for event, event_id in zip(events, ids, strict=True):
                key = event.get_dagster_event().asset_key
                if key is not None:
                    last[key.to_string()] = (event, event_id)
            self._store_asset_event_tags(conn, events, ids)
            for event, event_id in last.values():
                self._store_asset_event(conn, event, event_id)

    def initialize_concurrency_limit_to_default(self, concurrency_key: str) -> bool:
        """A pool's default limit, set the first time a run uses the pool, safely when several
        runs start at once (sharded runs do).

        Dagster's own inserts the limit and updates it when the insert hits the unique key; on
        Postgres the failed insert aborts the transaction, so the second of two runs starting
        together on a new pool fails (dagster-io/dagster#33552), and both may allocate slots
        (two slots for a limit of one would let two vendor pulls run at once). Here the pool is
        initialised under a transaction-scoped advisory lock, with INSERT ... ON CONFLICT."""
        if not (
            self.has_concurrency_limits_table
            and self.has_instance
            and self.has_default_pool_limit_col
        ):
            return super().initialize_concurrency_limit_to_default(concurrency_key)
        self._reconcile_concurrency_limits_from_slots()
        default_limit = self._instance.global_op_concurrency_default_limit
        with self.index_transaction() as conn:
            conn.execute(
                db.text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                {"k": f"dagster-pool|{concurrency_key}"},
            )
            if default_limit is None:
                conn.execute(
                    ConcurrencyLimitsTable.delete().where(
                        ConcurrencyLimitsTable.c.concurrency_key == concurrency_key
                    )
                )
                self._allocate_concurrency_slots(conn, concurrency_key, 0)
                return True
            insert = pg_insert(ConcurrencyLimitsTable).values(
                concurrency_key=concurrency_key, limit=default_limit, using_default_limit=True
            )
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[ConcurrencyLimitsTable.c.concurrency_key],
                    set_={"limit": default_limit},
                    where=ConcurrencyLimitsTable.c.limit != default_limit,
                )
            )
            self._allocate_concurrency_slots(conn, concurrency_key, default_limit)
        return True

    def claim_concurrency_slot(
        self, concurrency_key: str, run_id: str, step_key: str, priority: int | None = None
    ) -> ConcurrencyClaimStatus:
        """Claim a pool slot for a step, without missing a slot freed while the step queued.

        Dagster queues a step as unassigned when no slot is free, and assigns queued steps
        only when a slot is freed. A slot freed between the step's check and its queueing
        (two runs using one vendor pool: sharded runs do) is then never assigned, and the
        step waits forever with the slot free. A step still unassigned while its pool has a
        free slot asks for the queue to be assigned again; the slot rows stay the semaphore
        that holds the limit."""
        status = super().claim_concurrency_slot(concurrency_key, run_id, step_key, priority)
        if (
            status.is_claimed
            or status.is_assigned
            or not self.has_unassigned_slots(concurrency_key)
        ):
            return status
        self.assign_pending_steps([concurrency_key])
        return super().claim_concurrency_slot(concurrency_key, run_id, step_key, priority)
