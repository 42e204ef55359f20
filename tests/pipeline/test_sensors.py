"""Sensors and the schedule: new connections become partitions with their initial history;
sync requests become runs over exactly their user and days; a day is one run for all users."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import dagster as dg
from sqlalchemy import Engine, text

from mirobody_assets.definitions import defs
from mirobody_assets.pipeline.partitions import RANGE_END, RANGE_START
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.pipeline.schedules import recent_days
from mirobody_assets.pipeline.sensors import SYNC_REQUEST_TAG, new_connections, sync_requests


def test_the_sensor_adds_a_partition_and_initial_history_for_a_new_connection(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    user = make_user()
    link(user, "oura", "ada")
    with dg.build_sensor_context(
        instance=dagster_instance, resources={"mirobody": mirobody}
    ) as context:
        result = new_connections(context)
    assert isinstance(result, dg.SensorResult)
    added = [k for req in result.dynamic_partitions_requests or [] for k in req.partition_keys]
    assert user in added
    (run,) = [r for r in result.run_requests or [] if user in r.tags[RANGE_START]]
    today = datetime.now(UTC).date()
    first = today - timedelta(days=mirobody.settings.initial_history_days - 1)
    assert run.tags[RANGE_START] == f"{first}|{user}"
    assert run.tags[RANGE_END] == f"{today}|{user}"
    # once the partition exists, the same connection asks for nothing more
    dagster_instance.add_dynamic_partitions("users", added)
    with dg.build_sensor_context(
        instance=dagster_instance, resources={"mirobody": mirobody}
    ) as context:
        again = new_connections(context)
    assert isinstance(again, dg.SensorResult)
    assert user not in str(again.run_requests)


def test_a_pending_sync_request_becomes_one_run_and_is_queued(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    make_user: Callable[[], str],
) -> None:
    user = make_user()
    dagster_instance.add_dynamic_partitions("users", [user])
    with engine.begin() as conn:
        rid = conn.execute(
            text(
                "INSERT INTO sync_requests (user_id, kind, start_day, end_day, requested_by, "
                "created_at) VALUES (:u, 'backfill', :s, :e, 'api', "  # first in line
                "(SELECT COALESCE(min(created_at), now()) FROM sync_requests) "
                "- interval '1 second') RETURNING id"
            ),
            {"u": user, "s": date(2025, 1, 1), "e": date(2025, 1, 10)},
        ).scalar_one()
    with dg.build_sensor_context(
        instance=dagster_instance, resources={"mirobody": mirobody}
    ) as context:
        result = sync_requests(context)
    assert isinstance(result, dg.SensorResult)
    (run,) = [r for r in result.run_requests or [] if r.tags[SYNC_REQUEST_TAG] == str(rid)]
    assert run.tags[RANGE_START] == f"2025-01-01|{user}"
    assert run.tags[RANGE_END] == f"2025-01-10|{user}"
    with engine.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM sync_requests WHERE id = :i"), {"i": rid}
        ).scalar_one()
    assert status == "queued"


def _schedule(instance: dg.DagsterInstance, when: datetime, mirobody: MirobodyResource) -> object:
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, resources={"mirobody": mirobody}
    ) as context:
        return recent_days(context)


def test_the_schedule_asks_for_yesterday_and_today_of_every_user_one_run_per_shard(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    make_user: Callable[[], str],
) -> None:
    users = [make_user() for _ in range(3)]
    dagster_instance.add_dynamic_partitions("users", users)
    when = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    known = dagster_instance.get_dynamic_partitions("users")
    everyone = _schedule(dagster_instance, when, mirobody)
    assert isinstance(everyone, list) and len(everyone) == 1  # 500 users per run by default
    assert everyone[0].tags[RANGE_START] == f"2026-03-01|{known[0]}"
    assert everyone[0].tags[RANGE_END] == f"2026-03-02|{known[-1]}"
    fields = {k: getattr(mirobody, k) for k in type(mirobody).model_fields}
    sharded = _schedule(dagster_instance, when, MirobodyResource(**{**fields, "users_per_run": 2}))
    assert isinstance(sharded, list) and len(sharded) == (len(known) + 1) // 2
    # the shards cover every user once, in partition order, each with yesterday and today
    starts = [r.tags[RANGE_START].split("|") for r in sharded]
    ends = [r.tags[RANGE_END].split("|") for r in sharded]
    assert {d for d, _ in starts} == {"2026-03-01"} and {d for d, _ in ends} == {"2026-03-02"}
    covered = [
        u
        for (_, a), (_, b) in zip(starts, ends, strict=True)
        for u in known[known.index(a) : known.index(b) + 1]
    ]
    assert covered == known
    assert len({r.run_key for r in sharded}) == len(sharded)


def test_definitions_snapshot_of_assets_checks_jobs_and_schedules() -> None:
    repo = defs.get_repository_def()
    assert sorted(k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()) == [
        "daily_summary",
        "indicator_values",
        "raw_apple_health",
        "raw_fitbit",
        "raw_garmin",
        "raw_oura",
        "raw_polar",
        "raw_whoop",
        "raw_withings",
        "warehouse",
    ]
    assert sorted(s.name for s in repo.schedule_defs) == ["recent_days"]
    assert {s.cron_schedule for s in repo.schedule_defs} == {"0 */6 * * *"}
    assert sorted(s.name for s in repo.sensor_defs) == [
        "apple_health_imports",
        "new_connections",
        "sync_request_canceled",
        "sync_request_done",
        "sync_request_failed",
        "sync_requests",
    ]
    checks = sorted(k.to_user_string() for k in repo.asset_graph.asset_check_keys)
    assert checks == [
        "daily_summary:daily_summary_freshness",
        "daily_summary:daily_summary_row_counts",
        "indicator_values:indicator_values_contract",
        "raw_apple_health:pull_failures",
        "raw_fitbit:pull_failures",
        "raw_garmin:pull_failures",
        "raw_oura:pull_failures",
        "raw_polar:pull_failures",
        "raw_whoop:pull_failures",
        "raw_withings:pull_failures",
        "warehouse:warehouse_unique_keys",
    ]


def test_a_sync_request_is_closed_as_done_when_its_run_succeeds(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    from mirobody_assets.pipeline.assets import ALL_ASSETS
    from mirobody_assets.pipeline.sensors import sync_request_done

    user = make_user()
    link(user, "polar", "ada")
    dagster_instance.add_dynamic_partitions("users", [user])
    with engine.begin() as conn:
        rid = conn.execute(
            text(
                "INSERT INTO sync_requests (user_id, kind, start_day, end_day, requested_by) "
                "VALUES (:u, 'sync', :d, :d, 'api') RETURNING id"
            ),
            {"u": user, "d": date(2025, 2, 18)},
        ).scalar_one()
    with dg.build_sensor_context(
        instance=dagster_instance, resources={"mirobody": mirobody}
    ) as context:
        result = sync_requests(context)
    (run,) = [r for r in result.run_requests or [] if r.tags[SYNC_REQUEST_TAG] == str(rid)]
    done = dg.materialize(
        ALL_ASSETS, instance=dagster_instance, tags=run.tags, resources={"mirobody": mirobody}
    )
    assert done.success
    success = next(
        e
        for e in done.all_events
        if e.event_type_value == "PIPELINE_SUCCESS" or e.event_type_value == "RUN_SUCCESS"
    )
    with dg.build_run_status_sensor_context(
        sensor_name="sync_request_done",
        dagster_event=success,
        dagster_instance=dagster_instance,
        dagster_run=done.dagster_run,
        resources={"mirobody": mirobody},
    ) as context:
        sync_request_done(context)
    with engine.connect() as conn:
        status = conn.execute(
            text("SELECT status, finished_at IS NOT NULL FROM sync_requests WHERE id = :i"),
            {"i": rid},
        ).one()
    assert tuple(status) == ("done", True)


def _request(engine: Engine, user: str) -> int:
    """A pending request, first in line: requests earlier tests left pending (released again when
    a test moves the clock past the launch grace) must not push it past a tick's limit."""
    with engine.begin() as conn:
        return int(
            conn.execute(
                text(
                    "INSERT INTO sync_requests (user_id, kind, start_day, end_day, requested_by, "
                    "created_at) VALUES (:u, 'sync', :d, :d, 'api', "
                    "(SELECT COALESCE(min(created_at), now()) FROM sync_requests) "
                    "- interval '1 second') "
                    "RETURNING id"
                ),
                {"u": user, "d": date(2025, 2, 18)},
            ).scalar_one()
        )


def _status(engine: Engine, rid: int) -> tuple[str, str | None]:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT status, error FROM sync_requests WHERE id = :i"), {"i": rid}
        ).one()
    return row[0], row[1]


def _tick(instance: dg.DagsterInstance, mirobody: MirobodyResource) -> list[dg.RunRequest]:
    with dg.build_sensor_context(instance=instance, resources={"mirobody": mirobody}) as ctx:
        result = sync_requests(ctx)
    return list(result.run_requests or []) if isinstance(result, dg.SensorResult) else []


@dg.asset
def _noop() -> None:
    """A stand-in asset: the runs below only need to exist and end."""


@dg.asset
def _broken() -> None:
    raise RuntimeError("a step that fails")


def _cancelled_run(instance: dg.DagsterInstance, rid: int) -> dg.DagsterRun:
    job = dg.define_asset_job("stand_in", selection=[_noop]).resolve(
        asset_graph=dg.Definitions(assets=[_noop]).get_repository_def().asset_graph
    )
    run = instance.create_run_for_job(
        job, tags={SYNC_REQUEST_TAG: str(rid)}, status=dg.DagsterRunStatus.NOT_STARTED
    )
    instance.report_run_canceled(run)
    cancelled = instance.get_run_by_id(run.run_id)
    assert cancelled is not None and cancelled.status == dg.DagsterRunStatus.CANCELED
    return cancelled


def test_every_run_outcome_closes_its_sync_request(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    make_user: Callable[[], str],
) -> None:
    """Done, failed, or cancelled (queued or running): even when no run-status sensor saw it,
    the next tick reconciles the request with its run."""
    user = make_user()
    dagster_instance.add_dynamic_partitions("users", [user])
    ids = [_request(engine, user) for _ in range(3)]
    claimed = {int(r.tags[SYNC_REQUEST_TAG]) for r in _tick(dagster_instance, mirobody)}
    assert set(ids) <= claimed
    assert dg.materialize(
        [_noop], instance=dagster_instance, tags={SYNC_REQUEST_TAG: str(ids[0])}
    ).success
    assert not dg.materialize(
        [_broken],
        instance=dagster_instance,
        raise_on_error=False,
        tags={SYNC_REQUEST_TAG: str(ids[1])},
    ).success
    _cancelled_run(dagster_instance, ids[2])
    _tick(dagster_instance, mirobody)
    assert [_status(engine, rid)[0] for rid in ids] == ["done", "failed", "canceled"]


def test_a_claimed_request_whose_run_never_starts_is_retried_then_failed(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    make_user: Callable[[], str],
) -> None:
    from mirobody_assets.pipeline.sensors import LAUNCH_GRACE, reconcile_queued
    from mirobody_assets.storage.sync_requests import MAX_LAUNCH_ATTEMPTS

    user = make_user()
    dagster_instance.add_dynamic_partitions("users", [user])
    rid = _request(engine, user)
    keys = []
    for _ in range(MAX_LAUNCH_ATTEMPTS):
        (run,) = [
            r for r in _tick(dagster_instance, mirobody) if r.tags[SYNC_REQUEST_TAG] == str(rid)
        ]
        keys.append(run.run_key)
        assert _status(engine, rid)[0] == "queued"
        later = datetime.now(UTC) + LAUNCH_GRACE + timedelta(minutes=1)
        with engine.begin() as conn:  # the daemon never created the run
            reconcile_queued(dagster_instance, conn, now=later)
    assert keys == [f"sync-request-{rid}", f"sync-request-{rid}-2", f"sync-request-{rid}-3"]
    status, error = _status(engine, rid)
    assert status == "failed" and error is not None and "never created" in error


def test_a_cancelled_run_closes_its_request_through_the_run_status_sensor(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    make_user: Callable[[], str],
) -> None:
    from mirobody_assets.pipeline.sensors import sync_request_canceled

    user = make_user()
    dagster_instance.add_dynamic_partitions("users", [user])
    rid = _request(engine, user)
    _tick(dagster_instance, mirobody)
    canceled = _cancelled_run(dagster_instance, rid)
    event = dg.DagsterEvent(event_type_value="PIPELINE_CANCELED", job_name=canceled.job_name)
    with dg.build_run_status_sensor_context(
        sensor_name="sync_request_canceled",
        dagster_event=event,
        dagster_instance=dagster_instance,
        dagster_run=canceled,
        resources={"mirobody": mirobody},
    ) as context:
        sync_request_canceled(context)
    assert _status(engine, rid)[0] == "canceled"


def test_requests_of_users_without_a_partition_do_not_starve_the_others(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    make_user: Callable[[], str],
) -> None:
    from mirobody_assets.pipeline.sensors import MAX_REQUESTS_PER_TICK

    waiting = make_user()  # no partition yet: its requests wait
    for _ in range(MAX_REQUESTS_PER_TICK + 5):
        _request(engine, waiting)
    known = make_user()
    dagster_instance.add_dynamic_partitions("users", [known])
    rid = _request(engine, known)
    assert str(rid) in {r.tags[SYNC_REQUEST_TAG] for r in _tick(dagster_instance, mirobody)}
