"""Each asset's read -> compute -> validate -> write step for one chunk of partitions, free of
Dagster: the assets loop over chunks and report; the bench and tests call these directly.

A chunk is a frame of (user_id, day) partitions of whole users. Every write takes the users'
shared deletion locks first (user_locks) and skips accounts deleted meanwhile; fact files
are written under their user-month writer locks, inside the same transaction, so a deletion
waits for them and a second writer of the same file merges into the first one's result.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import partial

import polars as pl
from sqlalchemy import Engine

from indicators.aggregate import SourcePriorities
from indicators.aggregate import daily_summary as aggregate_daily
from indicators.quarantine import quarantine_counts
from indicators.schemas import DailySummarySchema, IndicatorValueSchema
from mirobody_assets import ingest, remote
from mirobody_assets.storage import raw_store, serving, timezones
from mirobody_assets.storage.facts import FactStore, partition_months
from mirobody_assets.storage.sync_requests import request_retries
from mirobody_assets.storage.user_locks import live_rows, lock_months
from mirobody_assets.storage.warehouse import Warehouse
from providers.registry import ProviderRegistry


@dataclass
class NormaliseReport:
    """What one or more chunks of `normalise` did (added up over chunks)."""

    written: int = 0
    files: int = 0
    quarantined: int = 0
    raw_read: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    records: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    failures: list[ingest.PartitionFailure] = field(default_factory=list)
    sample: pl.DataFrame | None = None


def normalise_chunk(
    engine: Engine,
    registry: ProviderRegistry,
    facts: FactStore,
    chunk: pl.DataFrame,
    report: NormaliseReport,
) -> None:
    """Format the chunk's latest raw records and replace its fact files and quarantine."""
    users = chunk["user_id"].unique().to_list()
    with engine.connect() as conn:
        raw = raw_store.load_latest_raw(conn, users, chunk["day"].unique().to_list())
        result = ingest.normalise(
            registry,
            raw,
            partial(raw_store.load_anchor_records, conn),
            partial(learned_zones, engine),
        )
    IndicatorValueSchema.validate(result.values)
    failed = ingest.failed_partitions(result, chunk)
    # Records that did not format keep their stored values (no delete without its
    # replacement); they are quarantined, and their days retried. The quarantine rows go in
    # first and the files last, right before the commit: a writer that dies before the files
    # are renamed leaves every table and file as it was.
    with engine.begin() as conn:
        live = live_rows(conn, chunk)  # accounts deleted meanwhile get nothing written
        lock_months(conn, partition_months(live))
        report.quarantined += serving.replace_quarantine(
            conn, result.quarantine, live, result.records
        )
        report.retries.update(request_retries(conn, [f for f in failed if f.retry]))
        rows, files = facts.replace_partitions(result.values, live, result.kept_records())
    report.written += rows
    report.files += files
    report.raw_read += raw.height
    report.reasons.update(quarantine_counts(result.quarantine))
    report.records.update(result.records.get_column("reason").to_list())
    report.failures += failed
    report.sample = result.values if report.sample is None else report.sample


def learned_zones(engine: Engine, rows: pl.DataFrame) -> pl.DataFrame:
    """The zone histories of the rows' users, after learning from their vendors' offsets."""
    with engine.begin() as conn:
        live = live_rows(conn, rows)  # nothing is learned for accounts deleted meanwhile
        users = live.get_column("user_id").unique().to_list()
        return timezones.learn_zones(conn, live, timezones.load_zones(conn, users))


def summarise_chunk(
    engine: Engine, facts: FactStore, chunk: pl.DataFrame, priorities: SourcePriorities
) -> tuple[int, pl.DataFrame]:
    """Roll the chunk's stored values up per local day and replace its daily summaries;
    overlapping sources are merged by `priorities` (provider_config.source_priorities)."""
    summary = aggregate_daily(facts.read_partitions(chunk), priorities)
    DailySummarySchema.validate(summary)
    with engine.begin() as conn:
        written = serving.replace_daily_summary(conn, summary, live_rows(conn, chunk))
    return written, summary


@dataclass
class UploadReport:
    files: Counter[str] = field(default_factory=Counter)
    rows: Counter[str] = field(default_factory=Counter)


def upload_chunk(
    engine: Engine, warehouse: Warehouse, chunk: pl.DataFrame, report: UploadReport
) -> pl.DataFrame:
    """Write the chunk's daily summaries and raw-record index as warehouse Parquet (the fact
    files already are the warehouse's `indicator_values`); returns the live partitions."""
    # The files are written while the users' locks are held: an account deleted meanwhile
    # either waits for them (and removes them) or is skipped here.
    with engine.begin() as conn:
        live = live_rows(conn, chunk)
        summary = serving.load_daily_summary(conn, live)
        index = raw_store.load_raw_index(conn, live)
        for name, frame in (("daily_summary", summary), ("raw_records_index", index)):
            report.files[name] += warehouse.replace_partitions(name, frame, live)
            report.rows[name] += frame.height
    return live


def push_chunk(
    url: str, token: str | None, engine: Engine, facts: FactStore, chunk: pl.DataFrame
) -> remote.PushReport:
    """Push the chunk's stored values and daily summaries to a remote Mirobody endpoint."""
    with engine.connect() as conn:
        summary = serving.load_daily_summary(conn, chunk)
    return remote.push(url, token, facts.read_partitions(chunk), summary, chunk)
