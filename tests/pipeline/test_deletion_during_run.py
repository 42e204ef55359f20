"""An account deleted while a run writes its partitions leaves nothing behind (Postgres rows,
Parquet files), and the run carries on for everyone else."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import dagster as dg
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from api.metrics import ApiMetrics
from api.services.deletion import delete_account
from mirobody_assets.pipeline.assets import ALL_ASSETS
from mirobody_assets.pipeline.partitions import range_tags
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.storage.models import User
from mirobody_assets.storage.user_locks import live_users
from tests.support.waiting import wait_until

DAY = date(2025, 2, 18)
TABLES = (
    "raw_records",
    "daily_summary",
    "quarantined_values",
    "sync_requests",
    "provider_connections",
)


def _rows_of(engine: Engine, user: str) -> dict[str, int]:
    with engine.connect() as conn:
        counts = {
            t: int(
                conn.execute(
                    text(
                        f"SELECT count(*) FROM {t} WHERE "
                        + ("partition_user" if t == "quarantined_values" else "user_id")
                        + " = :u"
                    ),
                    {"u": user},
                ).scalar_one()
            )
            for t in TABLES
        }
    return {t: n for t, n in counts.items() if n}


def _files_of(mirobody: MirobodyResource, user: str) -> list[Path]:
    return sorted((Path(mirobody.settings.data_dir) / "parquet").glob(f"*/{user}/*.parquet"))


def _delete(mirobody: MirobodyResource, engine: Engine, user: str) -> None:
    """The API's account deletion (what DELETE /v1/me runs after revoking vendor grants)."""
    state = cast(Any, SimpleNamespace(settings=mirobody.settings, metrics=ApiMetrics()))
    with Session(engine) as session:
        row = session.get(User, uuid.UUID(user))
        assert row is not None
        delete_account(state, session, row, {})


def _run(
    instance: dg.DagsterInstance, mirobody: MirobodyResource, users: list[str]
) -> dg.ExecuteInProcessResult:
    first, last = users[0], users[-1]  # in the order the partitions were added
    return dg.materialize(
        ALL_ASSETS,
        instance=instance,
        resources={"mirobody": mirobody},
        tags=range_tags(DAY, DAY, first, last),
        raise_on_error=False,
    )


def test_a_run_over_an_account_deleted_meanwhile_writes_nothing_of_it(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    gone, kept = make_user(), make_user()
    for user in (gone, kept):
        link(user, "whoop", "ada")
    dagster_instance.add_dynamic_partitions("users", [gone, kept])
    _delete(mirobody, engine, gone)  # after the run was planned with both users
    result = _run(dagster_instance, mirobody, [gone, kept])
    assert result.success
    assert _rows_of(engine, gone) == {} and _files_of(mirobody, gone) == []
    assert _rows_of(engine, kept).get("daily_summary") and mirobody.facts.user_files(kept)


def _waiting_on_a_user_lock(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
                )
            ).scalar_one()
        )


def test_a_deletion_waits_for_a_write_in_flight_and_then_removes_it(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    user = make_user()
    link(user, "whoop", "ben")
    dagster_instance.add_dynamic_partitions("users", [user])
    assert _run(dagster_instance, mirobody, [user]).success
    assert _files_of(mirobody, user)
    deleted = threading.Event()
    with engine.begin() as conn:  # a writer holding this user's lock, as every step does
        assert live_users(conn, [user]) == {user}
        worker = threading.Thread(target=lambda: (_delete(mirobody, engine, user), deleted.set()))
        worker.start()
        # The deletion queues behind this user's lock (or, if it did not wait, just finishes).
        wait_until(
            lambda: deleted.is_set() or _waiting_on_a_user_lock(engine),
            "the deletion to queue behind the writer's lock",
        )
        assert not deleted.is_set()  # the deletion waits for the write to commit
    worker.join(timeout=60)
    assert deleted.is_set()
    assert _rows_of(engine, user) == {} and _files_of(mirobody, user) == []
