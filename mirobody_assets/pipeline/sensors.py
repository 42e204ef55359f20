"""Sensors: new connections become user partitions plus their initial history; sync requests
(from the API and webhooks) become runs; finished runs close their sync requests."""

from datetime import UTC, date, datetime, timedelta

import dagster as dg
from sqlalchemy import text

from mirobody_assets.pipeline.jobs import pipeline_job
from mirobody_assets.pipeline.partitions import USERS, range_tags
from mirobody_assets.pipeline.resources import MirobodyResource

SYNC_REQUEST_TAG = "mirobody/sync_request_id"
MAX_REQUESTS_PER_TICK = 50


def _today() -> date:
    return datetime.now(UTC).date()


@dg.sensor(job=pipeline_job, minimum_interval_seconds=30,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Adds a user partition when a user's first provider connection appears, "
                       "and requests their initial history (INITIAL_HISTORY_DAYS).")
def new_connections(context: dg.SensorEvaluationContext,
                    mirobody: MirobodyResource) -> dg.SensorResult:
    known = set(context.instance.get_dynamic_partitions(USERS.name or "users"))
    with mirobody.engine.connect() as conn:
        users = [r[0] for r in conn.execute(text(
            "SELECT user_id::text FROM provider_connections WHERE status = 'active' "
            "GROUP BY user_id ORDER BY min(created_at)")).all()]
    new = [u for u in users if u not in known]
    if not new:
        return dg.SensorResult(skip_reason="no new connected users")
    last = _today()
    first = last - timedelta(days=mirobody.settings.initial_history_days - 1)
    runs = [dg.RunRequest(run_key=f"initial-history-{user}",
                          tags={**range_tags(first, last, user, user),
                                "mirobody/reason": "initial-history"})
            for user in new]
    return dg.SensorResult(run_requests=runs,
                           dynamic_partitions_requests=[USERS.build_add_request(new)])


@dg.sensor(job=pipeline_job, minimum_interval_seconds=15,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Turns pending sync and backfill requests (API, webhooks) into runs.")
def sync_requests(context: dg.SensorEvaluationContext,
                  mirobody: MirobodyResource) -> dg.SensorResult:
    known = set(context.instance.get_dynamic_partitions(USERS.name or "users"))
    with mirobody.engine.begin() as conn:
        rows = conn.execute(text(
            "SELECT id, user_id::text, start_day, end_day FROM sync_requests "
            "WHERE status = 'pending' ORDER BY created_at LIMIT :n FOR UPDATE SKIP LOCKED"),
            {"n": MAX_REQUESTS_PER_TICK}).all()
        ready = [r for r in rows if r[1] in known]
        if ready:
            conn.execute(text("UPDATE sync_requests SET status = 'queued', started_at = now() "
                              "WHERE id = ANY(:ids)"), {"ids": [r[0] for r in ready]})
    runs = [dg.RunRequest(run_key=f"sync-request-{rid}",
                          tags={**range_tags(start, min(end, _today()), user, user),
                                SYNC_REQUEST_TAG: str(rid)})
            for rid, user, start, end in ready]
    if not runs:
        return dg.SensorResult(skip_reason="no pending sync request for a known user")
    return dg.SensorResult(run_requests=runs)


def _close_request(context: dg.RunStatusSensorContext, status: str, error: str | None) -> None:
    rid = context.dagster_run.tags.get(SYNC_REQUEST_TAG)
    if rid is None:
        return
    resource: MirobodyResource = context.resources.mirobody
    with resource.engine.begin() as conn:
        conn.execute(text("UPDATE sync_requests SET status = :s, error = :e, finished_at = now() "
                          "WHERE id = :id"), {"s": status, "e": error, "id": int(rid)})


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, monitored_jobs=[pipeline_job],
                      default_status=dg.DefaultSensorStatus.RUNNING,
                      description="Marks a sync request done when its run succeeds.")
def sync_request_done(context: dg.RunStatusSensorContext, mirobody: MirobodyResource) -> None:
    _close_request(context, "done", None)


@dg.run_failure_sensor(monitored_jobs=[pipeline_job],
                       default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Marks a sync request failed, with the cause, when its run "
                                   "fails.")
def sync_request_failed(context: dg.RunFailureSensorContext, mirobody: MirobodyResource) -> None:
    message = context.failure_event.message if context.failure_event else "run failed"
    _close_request(context, "failed", (message or "run failed")[:2000])


ALL_SENSORS = [new_connections, sync_requests, sync_request_done, sync_request_failed]
