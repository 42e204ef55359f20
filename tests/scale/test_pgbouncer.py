"""The application behind PgBouncer in transaction pooling mode (Debian's pgbouncer, a pool of
two server connections): consecutive transactions of one client may run on different server
connections, so nothing may rely on session state. The real code paths that hold locks across
statements run through it: token refresh, sync-request recording and claiming, the account
deletion lock, and a pipeline run."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta

import dagster as dg
import polars as pl
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from indicators.frames import RAW_RECORD_COLUMNS
from mirobody_assets.connections import ConnectionRepository
from mirobody_assets.pipeline.assets import ALL_ASSETS
from mirobody_assets.pipeline.partitions import range_tags
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.storage import migrate
from mirobody_assets.storage.models import SyncRequest, User
from mirobody_assets.storage.raw_store import insert_raw_records
from mirobody_assets.storage.sync_requests import claim_pending, record_sync_request
from mirobody_assets.storage.user_locks import live_users, lock_for_deletion
from providers.sandbox import SandboxServer
from providers.types import Window
from tests.scale.conftest import Bouncer
from tests.support.sandbox import SANDBOX_TODAY
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow  # starts pgbouncer
DAY = SANDBOX_TODAY - timedelta(days=1)


def _waiting_on_advisory_lock(engine: Engine) -> bool:
    """Some session of this database waits for an advisory lock (seen from a direct
    connection, not through the pooler)."""
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
                )
            ).scalar_one()
        )


def test_a_statement_run_often_still_runs_after_the_pooler_moves_its_client(
    bouncer_engine: Engine,
) -> None:
    query = text(
        "SELECT pg_backend_pid() FROM users WHERE email = :e UNION ALL SELECT pg_backend_pid()"
    )
    with bouncer_engine.connect() as a, bouncer_engine.connect() as b:
        before = set()
        for _ in range(8):  # psycopg prepares a statement server-side from its 5th run
            before.add(a.execute(query, {"e": "nobody@example.org"}).scalar_one())
            a.commit()
        # b takes the server connection a just used (PgBouncer hands out the most recent)...
        b.execute(text("SELECT 1"))
        # ...so a's next transaction runs on another one, where nothing was prepared.
        after = a.execute(query, {"e": "nobody@example.org"}).scalar_one()
        a.commit()
        b.rollback()
    assert after not in before, "the pooler kept the client on one server connection"


def test_two_workers_refreshing_one_connection_through_the_pooler_spend_its_token_once(
    mirobody: MirobodyResource,
    repo: ConnectionRepository,
    sandbox: SandboxServer,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    """The refresh holds one server connection for its lock, read and save: two workers on
    one connection fit in a pool of two (a third connection would wait for ever)."""
    user = make_user()
    link(user, "whoop", "ada")
    whoop = mirobody.registry.get("whoop")
    (connection,) = repo.active("whoop", [user])
    oauth = sandbox.cloud["whoop"].oauth
    oauth.expire_access_tokens()
    before = oauth.refresh_count
    window = Window.for_days(SANDBOX_TODAY, SANDBOX_TODAY)

    async def both() -> list[object]:
        return await asyncio.gather(
            *(
                whoop.pull(
                    connection, window, repo.token_store(connection), record_types=("sleep",)
                )
                for _ in range(2)
            ),
            return_exceptions=True,
        )

    outcomes = asyncio.run(both())
    assert [type(o).__name__ for o in outcomes] == ["DataFrame", "DataFrame"], outcomes
    assert oauth.refresh_count == before + 1
    stored = repo.stored_tokens(connection.id)
    assert stored is not None and stored.access_token != connection.tokens.access_token


def test_webhook_requests_recorded_at_once_through_the_pooler_fold_into_one(
    bouncer_engine: Engine,
    engine: Engine,
    make_user: Callable[[], str],
) -> None:
    user = uuid.UUID(make_user())
    first = Session(bouncer_engine)
    try:
        record_sync_request(first, user, "whoop", "webhook", DAY, DAY, "test")  # holds the lock
        done: list[int] = []

        def second() -> None:
            with Session(bouncer_engine) as session:
                row = record_sync_request(
                    session,
                    user,
                    "whoop",
                    "webhook",
                    DAY + timedelta(days=1),
                    DAY + timedelta(days=1),
                    "test",
                )
                session.commit()
                done.append(row.id)

        worker = threading.Thread(target=second)
        worker.start()
        wait_until(lambda: _waiting_on_advisory_lock(engine), "the second request to wait")
        first.commit()
        worker.join(timeout=30)
    finally:
        first.close()
    with Session(engine) as session:
        rows = session.query(SyncRequest).filter_by(user_id=user).all()
    assert [(r.start_day, r.end_day, r.payload["deliveries"]) for r in rows] == [
        (DAY, DAY + timedelta(days=1), 2)
    ]
    assert done == [rows[0].id]


def test_two_claimers_through_the_pooler_claim_each_request_once(
    bouncer_engine: Engine,
    make_user: Callable[[], str],
) -> None:
    user = make_user()
    with Session(bouncer_engine) as session:
        for k in range(4):
            day = DAY - timedelta(days=7 * k)
            record_sync_request(session, uuid.UUID(user), "whoop", "backfill", day, day, "test")
        session.commit()
    with bouncer_engine.connect() as a, bouncer_engine.connect() as b:
        claimed_a = claim_pending(a, {user}, 2)  # a's transaction keeps its rows locked
        claimed_b = claim_pending(b, {user}, 10)
        a.commit()
        b.commit()
    ids_a, ids_b = {c.id for c in claimed_a}, {c.id for c in claimed_b}
    assert len(ids_a) == 2 and len(ids_b) == 2 and not ids_a & ids_b


def test_a_write_waits_for_an_account_deletion_through_the_pooler_and_skips_the_user(
    bouncer_engine: Engine,
    engine: Engine,
    make_user: Callable[[], str],
) -> None:
    user = make_user()
    found: list[set[str]] = []
    with Session(bouncer_engine) as deleting:
        lock_for_deletion(deleting, uuid.UUID(user))

        def write() -> None:
            with bouncer_engine.begin() as conn:
                found.append(live_users(conn, [user]))

        writer = threading.Thread(target=write)
        writer.start()
        wait_until(lambda: _waiting_on_advisory_lock(engine), "the write to wait")
        deleting.delete(deleting.get(User, uuid.UUID(user)))
        deleting.commit()
        writer.join(timeout=30)
    assert found == [set()]


def test_a_raw_records_write_leaves_no_temporary_table_on_the_server_connections(
    bouncer_engine: Engine,
    engine: Engine,
    make_user: Callable[[], str],
) -> None:
    user = make_user()
    raw = pl.DataFrame(
        {
            "provider": ["whoop"] * 2,
            "user_id": [user] * 2,
            "record_type": ["sleep"] * 2,
            "vendor_id": ["a", "b"],
            "version": ["1", "1"],
            "content_hash": ["h1", "h2"],
            "day": [DAY, DAY],
            "payload": ['{"x": 1}', '{"x": 2}'],
        },
        schema=RAW_RECORD_COLUMNS,
    )
    for _ in range(2):
        with bouncer_engine.begin() as conn:
            insert_raw_records(conn, raw)
    with engine.connect() as conn:
        left = conn.execute(
            text(
                "SELECT count(*) FROM pg_class WHERE relname = 'raw_records_in' "
                "AND relpersistence = 't'"
            )
        ).scalar_one()
        stored = conn.execute(
            text("SELECT count(*) FROM raw_records WHERE user_id = :u"), {"u": user}
        ).scalar_one()
    assert (left, stored) == (0, 2)


def test_a_pipeline_run_through_the_pooler_stores_its_user_day(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    """Dagster's own storage stays on a direct connection (it LISTENs); the pipeline's writes
    (raw records, quarantine, daily summaries, under the per-user locks) go through PgBouncer."""
    assert mirobody.settings.database_transaction_pooler
    user = make_user()
    link(user, "whoop", "ada")
    dagster_instance.add_dynamic_partitions("users", [user])
    result = dg.materialize(
        ALL_ASSETS,
        instance=dagster_instance,
        resources={"mirobody": mirobody},
        tags=range_tags(DAY, DAY, user, user),
    )
    assert result.success
    with engine.connect() as conn:
        counts = [
            conn.execute(
                text(f"SELECT count(*) FROM {t} WHERE user_id = :u"), {"u": user}
            ).scalar_one()
            for t in ("raw_records", "daily_summary")
        ]
    assert all(n > 0 for n in counts), counts
    assert mirobody.facts.user_files(user)


def test_the_migrations_run_through_the_pooler(bouncer: Bouncer, empty_database_url: str) -> None:
    """`mirobody migrate` (the Kubernetes migration Job) may be given the pooled DATABASE_URL."""
    url = bouncer.url(empty_database_url)
    migrate.upgrade(url)
    assert (
        migrate.current_revision(url)
        == ScriptDirectory.from_config(migrate.alembic_config(url)).get_current_head()
    )
