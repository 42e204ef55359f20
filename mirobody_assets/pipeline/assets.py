"""The assets: raw pulls per provider -> normalised indicator values -> daily summary -> upload.

Thin functions over mirobody_assets.ingest and mirobody_assets.chunk_steps. Each reads and writes
exactly its run's partitions through the resource (no IO manager), so one run may cover many
users and many days at once.
"""

import asyncio
from collections import Counter
from importlib.metadata import entry_points

import dagster as dg
import polars as pl

from indicators.frames import DAILY_SUMMARY_COLUMNS, INDICATOR_VALUE_COLUMNS
from indicators.schemas import DailySummarySchema, IndicatorValueSchema
from mirobody_assets import ingest
from mirobody_assets.chunk_steps import (
    NormaliseReport,
    UploadReport,
    normalise_chunk,
    push_chunk,
    summarise_chunk,
    upload_chunk,
)
from mirobody_assets.pipeline.apple_health import raw_apple_health
from mirobody_assets.pipeline.metadata import column_schema, failures_metadata, frame_metadata
from mirobody_assets.pipeline.partitions import PARTITIONS, context_partitions, user_chunks
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.provider_config import source_priorities
from mirobody_assets.storage import raw_store
from mirobody_assets.storage.sync_requests import request_retries
from mirobody_assets.storage.user_locks import live_rows
from mirobody_assets.storage.warehouse import TABLES
from providers.errors import ProviderDisabledError
from providers.registry import ENTRY_POINT_GROUP

OWNERS = ["team:data-platform"]
# Users normalised, aggregated and uploaded at once inside one step: every chunk is vectorised
# over its users and days, and a backfill of many users never holds all their data at once
# (200 users x 30 days in one piece peaked at ~6.5 GB).
USERS_PER_CHUNK = 25
RETRY = dg.RetryPolicy(
    max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
COMMON = dict(
    partitions_def=PARTITIONS, backfill_policy=dg.BackfillPolicy.single_run(), owners=OWNERS
)


def provider_slugs() -> list[str]:
    """Every registered provider (built-in or installed plugin) gets its raw asset."""
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def raw_asset(slug: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"raw_{slug}",
        group_name="raw",
        kinds={"postgres", "python"},
        pool=f"vendor_{slug}",
        retry_policy=RETRY,
        **COMMON,  # type: ignore[arg-type]
        description=f"Every {slug} document of the partitions' users and days, as pulled "
        "(raw_records, JSONB; identical re-pulls add nothing). A user whose pull "
        "fails gets a retry request for exactly those days.",
    )
    def _raw(context: dg.AssetExecutionContext, mirobody: MirobodyResource) -> dg.MaterializeResult:
        parts = context_partitions(context)
        try:
            provider = mirobody.registry.get(slug)
        except ProviderDisabledError as exc:
            context.log.warning(f"{slug} is disabled: {exc}")
            return dg.MaterializeResult(metadata={"disabled": str(exc), "new_records": 0})
        result = asyncio.run(
            ingest.pull_partitions(
                provider, mirobody.connections, parts, mirobody.settings.pull_concurrency
            )
        )
        # The run goes on for everyone: the users whose pull failed are named here, get a
        # retry request for exactly their days (the sync sensor re-runs those alone), and
        # turn this asset's pull-failure check red.
        with mirobody.engine.begin() as conn:
            # Users whose account was deleted meanwhile are left out (user_locks).
            inserted = raw_store.insert_raw_records(conn, live_rows(conn, result.raw))
            retries = request_retries(conn, result.failures)
        for failure in result.failures:
            context.log.warning(
                f"{slug} pull failed for user {failure.user_id} "
                f"{failure.days[0]}..{failure.days[-1]}: {failure.cause}"
            )
        return dg.MaterializeResult(
            metadata={
                "pulled_records": result.raw.height,
                "new_records": inserted,
                "users_pulled": result.users_pulled,
                **retries,
                **failures_metadata(result.failures),
            }
        )

    return _raw


# Apple Health has no API to pull: its raw asset parses uploaded exports (apple_health.py).
RAW_ASSETS = [
    *(raw_asset(slug) for slug in provider_slugs() if slug != "apple_health"),
    raw_apple_health,
]


@dg.asset(
    deps=RAW_ASSETS,
    group_name="normalised",
    kinds={"parquet", "polars", "pandera"},
    retry_policy=RETRY,
    **COMMON,  # type: ignore[arg-type]
    description="Normalised indicator values in standard units (the long fact table), as "
    "Parquet per user and month. Rows that break the contract go to "
    "quarantined_values with their reason; so does a raw record that cannot be "
    "formatted (with its record type, vendor id and the payload field at fault), "
    "while its earlier values stay and its days get a retry request.",
    metadata={
        "dagster/column_schema": column_schema(
            IndicatorValueSchema,
            {"day": (pl.Date(), "The user's local day of the value (its partition).")},
        )
    },
)
def indicator_values(
    context: dg.AssetExecutionContext, mirobody: MirobodyResource
) -> dg.MaterializeResult:
    report = NormaliseReport()
    for chunk in user_chunks(context_partitions(context), USERS_PER_CHUNK):
        normalise_chunk(mirobody.engine, mirobody.registry, mirobody.facts, chunk, report)
    for failure in report.failures:
        context.log.warning(
            f"{failure.provider} not formatted for user {failure.user_id} "
            f"{failure.days[0]}..{failure.days[-1]}: {failure.cause}"
        )
    sample = (
        report.sample if report.sample is not None else pl.DataFrame(schema=INDICATOR_VALUE_COLUMNS)
    )
    return dg.MaterializeResult(
        metadata={
            **frame_metadata(sample, INDICATOR_VALUE_COLUMNS, model=IndicatorValueSchema),
            "dagster/row_count": dg.MetadataValue.int(report.written),
            "rows_written": report.written,
            "files_written": report.files,
            "raw_records_read": report.raw_read,
            "quarantined": report.quarantined,
            "quarantined_by_reason": dg.MetadataValue.json(dict(report.reasons)),
            "records_not_formatted": dg.MetadataValue.json(dict(report.records)),
            "path": str(mirobody.facts.root),
            **dict(report.retries),
            **failures_metadata(report.failures),
        }
    )


@dg.asset(
    deps=[indicator_values],
    group_name="normalised",
    kinds={"postgres", "polars", "pandera"},
    retry_policy=RETRY,
    **COMMON,  # type: ignore[arg-type]
    description="One value per user, local day and indicator, by the catalogue's roll-up; "
    "overlapping sources merged by declared priority, the winner recorded.",
    metadata={"dagster/column_schema": column_schema(DailySummarySchema)},
)
def daily_summary(
    context: dg.AssetExecutionContext, mirobody: MirobodyResource
) -> dg.MaterializeResult:
    written = 0
    first: pl.DataFrame | None = None
    priorities = source_priorities(mirobody.settings)
    for chunk in user_chunks(context_partitions(context), USERS_PER_CHUNK):
        rows, summary = summarise_chunk(mirobody.engine, mirobody.facts, chunk, priorities)
        written += rows
        first = summary if first is None else first
    return dg.MaterializeResult(
        metadata={
            **frame_metadata(
                first if first is not None else pl.DataFrame(schema=DAILY_SUMMARY_COLUMNS),
                DAILY_SUMMARY_COLUMNS,
                model=DailySummarySchema,
            ),
            "dagster/row_count": dg.MetadataValue.int(written),
            "rows_written": written,
        }
    )


@dg.asset(
    deps=[indicator_values, daily_summary],
    group_name="upload",
    kinds={"duckdb", "parquet"},
    retry_policy=RETRY,
    **COMMON,  # type: ignore[arg-type]
    description="The analysts' copy: the DuckDB warehouse views (indicator_values over the "
    "fact files, daily_summary, raw_records_index, users) and per-user Parquet of "
    "the daily summaries and raw-record index; and, with REMOTE_INGEST_URL set, a "
    "push of the partitions to that Mirobody endpoint.",
)
def warehouse(
    context: dg.AssetExecutionContext, mirobody: MirobodyResource
) -> dg.MaterializeResult:
    wh = mirobody.warehouse
    settings = mirobody.settings
    token = settings.remote_ingest_token
    report = UploadReport()
    pushed: Counter[str] = Counter()
    for chunk in user_chunks(context_partitions(context), USERS_PER_CHUNK):
        live = upload_chunk(mirobody.engine, wh, chunk, report)
        if settings.remote_ingest_url:
            push = push_chunk(
                settings.remote_ingest_url,
                token.get_secret_value() if token else None,
                mirobody.engine,
                mirobody.facts,
                live,
            )
            pushed.update({"remote_requests": push.requests, "remote_rows": push.rows})
    with mirobody.engine.connect() as conn:
        wh.refresh_users(conn)
    return dg.MaterializeResult(
        metadata={
            **pushed,
            "duckdb_path": str(wh.duckdb_path),
            "files_written": dg.MetadataValue.json(dict(report.files)),
            "rows": dg.MetadataValue.json(dict(report.rows)),
            "dagster/row_count": sum(report.rows.values()),
            "tables": dg.MetadataValue.json(sorted(TABLES)),
        }
    )


ALL_ASSETS = [*RAW_ASSETS, indicator_values, daily_summary, warehouse]
