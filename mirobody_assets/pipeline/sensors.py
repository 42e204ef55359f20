"""Sensors: new connections become user partitions plus their initial history; sync requests
(from the API and webhooks) become runs; finished runs close their sync requests."""

from datetime import UTC, date, datetime, timedelta

import dagster as dg
from sqlalchemy import Connection, text

from mirobody_assets.pipeline.jobs import pipeline_job
from mirobody_assets.pipeline.partitions import USERS, range_tags
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.storage.sync_requests import (
    Claimed,
    SyncStatus,
    claim_pending,
    close_request,
    queued_requests,
    release_unstarted,
)

SYNC_REQUEST_TAG = "mirobody/sync_request_id"
MAX_REQUESTS_PER_TICK = 50
MAX_RECONCILED_PER_TICK = 200
# How long a claimed request may wait for its run to be created before it is put back.
LAUNCH_GRACE = timedelta(minutes=10)
_OUTCOMES = {
    dg.DagsterRunStatus.SUCCESS: SyncStatus.DONE,
    dg.DagsterRunStatus.FAILURE: SyncStatus.FAILED,
    dg.DagsterRunStatus.CANCELED: SyncStatus.CANCELED,
}


def _today() -> date:
    return datetime.now(UTC).date()


@dg.sensor(
    job=pipeline_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a user partition when a user's first provider connection appears, "
    "and requests their initial history (INITIAL_HISTORY_DAYS).",
)
def new_connections(
    context: dg.SensorEvaluationContext, mirobody: MirobodyResource
) -> dg.SensorResult:
    known = set(context.instance.get_dynamic_partitions(USERS.name or "users"))
    with mirobody.engine.connect() as conn:
        users = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT user_id::text FROM provider_connections WHERE status = 'active' "
                    "GROUP BY user_id ORDER BY min(created_at)"
                )
            ).all()
        ]
    new = [u for u in users if u not in known]
    if not new:
        return dg.SensorResult(skip_reason="no new connected users")
    last = _today()
    first = last - timedelta(days=mirobody.settings.initial_history_days - 1)
    runs = [
        dg.RunRequest(
            run_key=f"initial-history-{user}",
            tags={**range_tags(first, last, user, user), "mirobody/reason": "initial-history"},
        )
        for user in new
    ]
    return dg.SensorResult(
        run_requests=runs, dynamic_partitions_requests=[USERS.build_add_request(new)]
    )


def _run_key(claimed: Claimed) -> str:
    # A request put back after a launch that never started needs a new key: Dagster skips a
    # run request whose key it has seen.
    suffix = "" if claimed.attempt <= 1 else f"-{claimed.attempt}"
    return f"sync-request-{claimed.id}{suffix}"


def reconcile_queued(
    instance: dg.DagsterInstance, conn: Connection, now: datetime | None = None
) -> dict[str, int]:
    """Close queued requests whose run has ended (whatever sensor missed it), and put back those
    whose run was never created within LAUNCH_GRACE (bounded: then failed)."""
    now = now or datetime.now(UTC)
    counts = {"closed": 0, "released": 0}
    for rid, claimed_at in queued_requests(conn)[:MAX_RECONCILED_PER_TICK]:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={SYNC_REQUEST_TAG: str(rid)}), limit=1)
        if not runs:
            if claimed_at is None or now - claimed_at > LAUNCH_GRACE:
                release_unstarted(conn, rid, "its run was never created")
                counts["released"] += 1
            continue
        outcome = _OUTCOMES.get(runs[0].status)
        if outcome is not None and close_request(
            conn,
            rid,
            outcome,
            None
            if outcome is SyncStatus.DONE
            else f"run {runs[0].run_id} ended {runs[0].status.value}",
        ):
            counts["closed"] += 1
    return counts


@dg.sensor(
    job=pipeline_job,
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Turns pending sync and backfill requests (API, webhooks) into runs, and "
    "closes queued requests whose run ended or never started.",
)
def sync_requests(
    context: dg.SensorEvaluationContext, mirobody: MirobodyResource
) -> dg.SensorResult:
    known = set(context.instance.get_dynamic_partitions(USERS.name or "users"))
    with mirobody.engine.begin() as conn:
        reconciled = reconcile_queued(context.instance, conn)
        ready = claim_pending(conn, known, MAX_REQUESTS_PER_TICK)
    if any(reconciled.values()):
        context.log.info("sync requests reconciled with their runs: %s", reconciled)
    runs = [
        dg.RunRequest(
            run_key=_run_key(c),
            tags={
                **range_tags(c.start_day, min(c.end_day, _today()), c.user_id, c.user_id),
                SYNC_REQUEST_TAG: str(c.id),
            },
        )
        for c in ready
    ]
    if not runs:
        return dg.SensorResult(skip_reason="no pending sync request for a known user")
    return dg.SensorResult(run_requests=runs)


def _close_request(
    context: dg.RunStatusSensorContext, status: SyncStatus, error: str | None
) -> None:
    rid = context.dagster_run.tags.get(SYNC_REQUEST_TAG)
    if rid is None:
        return
    resource: MirobodyResource = context.resources.mirobody
    with resource.engine.begin() as conn:
        close_request(conn, int(rid), status, error)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[pipeline_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks a sync request done when its run succeeds.",
)
def sync_request_done(context: dg.RunStatusSensorContext, mirobody: MirobodyResource) -> None:
    _close_request(context, SyncStatus.DONE, None)


@dg.run_failure_sensor(
    monitored_jobs=[pipeline_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks a sync request failed, with the cause, when its run fails.",
)
def sync_request_failed(context: dg.RunFailureSensorContext, mirobody: MirobodyResource) -> None:
    message = context.failure_event.message if context.failure_event else "run failed"
    _close_request(context, SyncStatus.FAILED, message or "run failed")


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.CANCELED,
    monitored_jobs=[pipeline_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks a sync request canceled when its run is cancelled (queued or running).",
)
def sync_request_canceled(context: dg.RunStatusSensorContext, mirobody: MirobodyResource) -> None:
    _close_request(context, SyncStatus.CANCELED, "the run was cancelled")


ALL_SENSORS = [
    new_connections,
    sync_requests,
    sync_request_done,
    sync_request_failed,
    sync_request_canceled,
]
