"""Apple Health imports in Dagster: the `raw_apple_health` asset (uploaded exports parsed into
raw documents, shown in the UI like a vendor's pull), the jobs that run it and normalise the
days an export touched, and the sensor that launches both."""

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from mirobody_assets.apple_health_ingest import import_export
from mirobody_assets.days import history_start, last_day
from mirobody_assets.pipeline.partitions import (
    PARTITIONS,
    USERS,
    context_partitions,
    partition_key,
    range_tags,
)
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.storage.apple_health_imports import (
    ImportRow,
    claim_received,
    mark_imported,
    parsed_imports,
    received_users,
)

PROVIDER = "apple_health"
IMPORT_TAG = "mirobody/apple_health_import"
# Days normalised per run after an import: a run's memory is bounded by one chunk of days,
# and years of history become a handful of runs.
DAYS_PER_RUN = 92
MAX_IMPORTS_PER_RUN = 10


@dg.asset(
    name="raw_apple_health",
    group_name="raw",
    kinds={"postgres", "python"},
    partitions_def=PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    owners=["team:data-platform"],
    description="Apple Health exports uploaded by the partitions' users, parsed as a stream "
    "into raw documents (one per HealthKit type and local day, raw_records "
    "JSONB). A re-sent export, which holds the previous one, adds only the days "
    "that changed; an unreadable record is isolated and quarantined when "
    "formatted. The uploaded file is deleted once parsed.",
)
def raw_apple_health(
    context: dg.AssetExecutionContext, mirobody: MirobodyResource
) -> dg.MaterializeResult:
    users = context_partitions(context).get_column("user_id").unique().sort().to_list()
    with mirobody.engine.begin() as conn:
        claimed = claim_received(conn, users, MAX_IMPORTS_PER_RUN)
    spill = mirobody.settings.data_dir / "tmp"
    spill.mkdir(parents=True, exist_ok=True)
    results = [import_export(mirobody.engine, imp, spill) for imp in claimed]
    for r in results:
        if r.error:
            context.log.warning(f"apple health import {r.import_id} (user {r.user_id}): {r.error}")
    return dg.MaterializeResult(
        metadata={
            "imports": len(results),
            "documents": sum(r.documents for r in results),
            "new_records": sum(r.new_documents for r in results),
            "records_by_type": dg.MetadataValue.json(
                _merged(r.summary["records"] for r in results)
            ),
            "ignored_by_type": dg.MetadataValue.json(
                _merged(r.summary["ignored"] for r in results)
            ),
            "unlisted_types": dg.MetadataValue.json(
                _merged(r.summary["unlisted"] for r in results)
            ),
            "malformed_records": sum(r.summary["malformed"] for r in results),
            "imports_failed": dg.MetadataValue.json(
                {str(r.import_id): r.error for r in results if r.error}
            ),
        }
    )


def _merged(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in counts:
        for key, n in part.items():
            total[key] = total.get(key, 0) + int(n)
    return dict(sorted(total.items()))


apple_health_parse_job = dg.define_asset_job(
    "apple_health_import",
    selection=[raw_apple_health],
    executor_def=dg.in_process_executor,
    description="Parse uploaded Apple Health exports into raw documents.",
)

apple_health_normalise_job = dg.define_asset_job(
    "apple_health_normalise",
    selection=dg.AssetSelection.groups("normalised", "upload"),
    executor_def=dg.in_process_executor,
    description="Normalise, summarise and upload the days an Apple Health export touched.",
)


def day_chunks(
    first: date, last: date, size: int = DAYS_PER_RUN, today: date | None = None
) -> list[tuple[date, date]]:
    """first..last clamped to the partitions' days, in chunks of `size` days."""
    start, end = max(first, history_start()), min(last, last_day(today))
    chunks = []
    while start <= end:
        stop = min(end, start + timedelta(days=size - 1))
        chunks.append((start, stop))
        start = stop + timedelta(days=1)
    return chunks


def normalise_requests(imp: ImportRow, today: date | None = None) -> list[dg.RunRequest]:
    if imp.first_day is None or imp.last_day is None:
        return []
    return [
        dg.RunRequest(
            run_key=f"apple-health-normalise-{imp.id}-{start.isoformat()}",
            job_name=apple_health_normalise_job.name,
            tags={
                **range_tags(start, stop, imp.user_id, imp.user_id),
                IMPORT_TAG: str(imp.id),
                "mirobody/reason": "apple-health-import",
            },
        )
        for start, stop in day_chunks(imp.first_day, imp.last_day, today=today)
    ]


@dg.sensor(
    jobs=[apple_health_parse_job, apple_health_normalise_job],
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Parses uploaded Apple Health exports (adding the uploader's user "
    "partition when new), then normalises the days each export touched.",
)
def apple_health_imports(
    context: dg.SensorEvaluationContext, mirobody: MirobodyResource
) -> dg.SensorResult:
    known = set(context.instance.get_dynamic_partitions(USERS.name or "users"))
    today = datetime.now(UTC).date()
    with mirobody.engine.begin() as conn:
        waiting = received_users(conn)
        parsed = parsed_imports(conn)
        for imp in parsed:
            mark_imported(conn, imp.id)
    # One parse run per newest upload: a run already asked for is not asked for again.
    runs = [
        dg.RunRequest(
            run_key=f"apple-health-parse-{latest}",
            job_name=apple_health_parse_job.name,
            partition_key=partition_key(today, user),
            tags={"mirobody/reason": "apple-health-upload"},
        )
        for user, latest in waiting
    ]
    runs += [r for imp in parsed for r in normalise_requests(imp, today)]
    new_users = sorted({u for u, _ in waiting if u not in known})
    if not runs:
        return dg.SensorResult(skip_reason="no Apple Health upload waiting")
    return dg.SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=[USERS.build_add_request(new_users)] if new_users else [],
    )


APPLE_HEALTH_JOBS = [apple_health_parse_job, apple_health_normalise_job]
APPLE_HEALTH_SENSORS = [apple_health_imports]
