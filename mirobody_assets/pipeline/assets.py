"""The assets: raw pulls per provider -> normalised indicator values -> daily summary -> upload.

Thin functions over mirobody_assets.ingest and the storage modules. Each reads and writes
exactly its run's partitions through the resource (no IO manager), so one run may cover many
users and many days at once.
"""


import asyncio
from collections import Counter
from functools import partial
from importlib.metadata import entry_points

import dagster as dg
import polars as pl

from indicators.aggregate import daily_summary as aggregate_daily
from indicators.frames import DAILY_SUMMARY_COLUMNS, INDICATOR_VALUE_COLUMNS
from indicators.quarantine import quarantine_counts
from indicators.schemas import DailySummarySchema, IndicatorValueSchema
from mirobody_assets import ingest, remote
from mirobody_assets.pipeline.metadata import failures_metadata, frame_metadata
from mirobody_assets.pipeline.partitions import PARTITIONS, context_partitions, user_chunks
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.storage import raw_store, serving
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
RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL,
                       jitter=dg.Jitter.PLUS_MINUS)
COMMON = dict(partitions_def=PARTITIONS, backfill_policy=dg.BackfillPolicy.single_run(),
              owners=OWNERS)


def provider_slugs() -> list[str]:
    """Every registered provider (built-in or installed plugin) gets its raw asset."""
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def raw_asset(slug: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"raw_{slug}", group_name="raw", kinds={"postgres", "python"}, pool=f"vendor_{slug}",
        retry_policy=RETRY, **COMMON,  # type: ignore[arg-type]
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
        result = asyncio.run(ingest.pull_partitions(
            provider, mirobody.connections, parts, mirobody.settings.pull_concurrency))
        # The run goes on for everyone: the users whose pull failed are named here, get a
        # retry request for exactly their days (the sync sensor re-runs those alone), and
        # turn this asset's pull-failure check red.
        with mirobody.engine.begin() as conn:
            # Users whose account was deleted meanwhile are left out (user_locks).
            inserted = raw_store.insert_raw_records(conn, live_rows(conn, result.raw))
            retries = request_retries(conn, result.failures)
        for failure in result.failures:
            context.log.warning(f"{slug} pull failed for user {failure.user_id} "
                                f"{failure.days[0]}..{failure.days[-1]}: {failure.cause}")
        return dg.MaterializeResult(metadata={
            "pulled_records": result.raw.height, "new_records": inserted,
            "users_pulled": result.users_pulled, **retries,
            **failures_metadata(result.failures)})

    return _raw


RAW_ASSETS = [raw_asset(slug) for slug in provider_slugs()]


@dg.asset(
    deps=RAW_ASSETS, group_name="normalised", kinds={"postgres", "polars", "pandera"},
    retry_policy=RETRY, **COMMON,  # type: ignore[arg-type]
    description="Normalised indicator values in standard units (the long fact table). Rows "
                "that break the contract go to quarantined_values with their reason; so does "
                "a raw record that cannot be formatted (with its record type, vendor id and "
                "the payload field at fault), while its earlier values stay and its days get "
                "a retry request.",
)
def indicator_values(context: dg.AssetExecutionContext,
                     mirobody: MirobodyResource) -> dg.MaterializeResult:
    parts = context_partitions(context)
    written = quarantined = raw_read = 0
    reasons: Counter[str] = Counter()
    records: Counter[str] = Counter()
    retries: Counter[str] = Counter()
    failures: list[ingest.PartitionFailure] = []
    first: pl.DataFrame | None = None
    for chunk in user_chunks(parts, USERS_PER_CHUNK):  # each chunk: its own transaction
        users = chunk["user_id"].unique().to_list()
        with mirobody.engine.connect() as conn:
            raw = raw_store.load_latest_raw(conn, users, chunk["day"].unique().to_list())
            result = ingest.normalise(mirobody.registry, raw, partial(
                raw_store.load_anchor_records, conn))
        IndicatorValueSchema.validate(result.values)
        failed = ingest.failed_partitions(result, chunk)
        # Records that did not format keep their stored values (no delete without its
        # replacement); they are quarantined, and their days retried.
        with mirobody.engine.begin() as conn:
            chunk = live_rows(conn, chunk)  # accounts deleted meanwhile get nothing written
            written += serving.replace_indicator_values(conn, result.values, chunk,
                                                        result.kept_records())
            quarantined += serving.replace_quarantine(conn, result.quarantine, chunk,
                                                      result.records)
            retries.update(request_retries(conn, [f for f in failed if f.retry]))
        for failure in failed:
            context.log.warning(f"{failure.provider} not formatted for user {failure.user_id} "
                                f"{failure.days[0]}..{failure.days[-1]}: {failure.cause}")
        raw_read += raw.height
        reasons.update(quarantine_counts(result.quarantine))
        records.update(result.records.get_column("reason").to_list())
        failures += failed
        first = result.values if first is None else first
    return dg.MaterializeResult(metadata={
        **frame_metadata(first if first is not None else
                         pl.DataFrame(schema=INDICATOR_VALUE_COLUMNS), INDICATOR_VALUE_COLUMNS),
        "dagster/row_count": dg.MetadataValue.int(written),
        "rows_written": written, "raw_records_read": raw_read,
        "quarantined": quarantined,
        "quarantined_by_reason": dg.MetadataValue.json(dict(reasons)),
        "records_not_formatted": dg.MetadataValue.json(dict(records)),
        **dict(retries), **failures_metadata(failures)})


@dg.asset(
    deps=[indicator_values], group_name="normalised", kinds={"postgres", "polars", "pandera"},
    retry_policy=RETRY, **COMMON,  # type: ignore[arg-type]
    description="One value per user, local day and indicator, by the catalogue's roll-up; "
                "overlapping sources merged by declared priority, the winner recorded.",
)
def daily_summary(context: dg.AssetExecutionContext,
                  mirobody: MirobodyResource) -> dg.MaterializeResult:
    parts = context_partitions(context)
    written = 0
    first: pl.DataFrame | None = None
    for chunk in user_chunks(parts, USERS_PER_CHUNK):
        with mirobody.engine.connect() as conn:
            values = serving.load_indicator_values(conn, chunk)
        summary = aggregate_daily(values)
        DailySummarySchema.validate(summary)
        with mirobody.engine.begin() as conn:
            written += serving.replace_daily_summary(conn, summary, live_rows(conn, chunk))
        first = summary if first is None else first
    return dg.MaterializeResult(metadata={
        **frame_metadata(first if first is not None else
                         pl.DataFrame(schema=DAILY_SUMMARY_COLUMNS), DAILY_SUMMARY_COLUMNS),
        "dagster/row_count": dg.MetadataValue.int(written), "rows_written": written})


@dg.asset(
    deps=[indicator_values, daily_summary], group_name="upload",
    kinds={"duckdb", "parquet"}, retry_policy=RETRY, **COMMON,  # type: ignore[arg-type]
    description="The analysts' copy: per-user Parquet and the DuckDB warehouse views "
                "(indicator_values, daily_summary, raw_records_index); and, with "
                "REMOTE_INGEST_URL set, a push of the partitions to that Mirobody endpoint.",
)
def warehouse(context: dg.AssetExecutionContext,
              mirobody: MirobodyResource) -> dg.MaterializeResult:
    parts = context_partitions(context)
    wh = mirobody.warehouse
    settings = mirobody.settings
    token = settings.remote_ingest_token
    files: Counter[str] = Counter()
    rows: Counter[str] = Counter()
    pushed: Counter[str] = Counter()
    for chunk in user_chunks(parts, USERS_PER_CHUNK):
        # The files are written while the users' locks are held: an account deleted meanwhile
        # either waits for them (and removes them) or is skipped here.
        with mirobody.engine.begin() as conn:
            chunk = live_rows(conn, chunk)
            values = serving.with_local_day(serving.load_indicator_values(conn, chunk))
            summary = serving.load_daily_summary(conn, chunk)
            index = raw_store.load_raw_index(conn, chunk)
            for name, frame in (("indicator_values", values), ("daily_summary", summary),
                                ("raw_records_index", index)):
                files[name] += wh.replace_partitions(name, frame, chunk)
                rows[name] += frame.height
        if settings.remote_ingest_url:
            report = remote.push(settings.remote_ingest_url,
                                 token.get_secret_value() if token else None,
                                 values.drop("day"), summary, chunk)
            pushed.update({"remote_requests": report.requests, "remote_rows": report.rows})
    return dg.MaterializeResult(metadata={
        **pushed,
        "duckdb_path": str(wh.duckdb_path), "files_written": dg.MetadataValue.json(dict(files)),
        "rows": dg.MetadataValue.json(dict(rows)), "dagster/row_count": sum(rows.values()),
        "tables": dg.MetadataValue.json(sorted(TABLES)),
    })


ALL_ASSETS = [*RAW_ASSETS, indicator_values, daily_summary, warehouse]

