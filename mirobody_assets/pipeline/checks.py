"""Data-quality checks, shown in the Dagster UI beside their assets.

They look at the stored tables (not at one run's frames), so they also catch what a manual
edit or a half-finished backfill left behind.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb
import polars as pl
from sqlalchemy import text

from indicators.frames import INDICATOR_VALUE_COLUMNS
from indicators.quarantine import split_valid
from mirobody_assets.pipeline.assets import (
    RAW_ASSETS,
    daily_summary,
    indicator_values,
    warehouse,
)
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.storage.sync_requests import retry_summary

RECENT_DAYS = 3
STALE_AFTER_DAYS = 2
ROW_COUNT_FLOOR = 0.5


@dg.asset_check(
    asset=indicator_values,
    blocking=True,
    description="Recent stored values keep the contract: catalogue ids, standard "
    "units, finite values within the catalogue's bounds, unique keys.",
)
def indicator_values_contract(mirobody: MirobodyResource) -> dg.AssetCheckResult:
    today = datetime.now(UTC).date()
    values = (
        mirobody.facts.scan_days(today - timedelta(days=RECENT_DAYS), today + timedelta(days=1))
        .select(list(INDICATOR_VALUE_COLUMNS))
        .collect()
    )
    _, bad = split_valid(values)
    reasons = bad.group_by("reason").len().sort("reason").rows() if bad.height else []
    return dg.AssetCheckResult(
        passed=bad.height == 0,
        metadata={
            "rows_checked": values.height,
            "violations": bad.height,
            "by_reason": dg.MetadataValue.json(dict(reasons)),
        },
    )


@dg.asset_check(asset=warehouse, description="No natural key appears twice in the warehouse.")
def warehouse_unique_keys(mirobody: MirobodyResource) -> dg.AssetCheckResult:
    wh = mirobody.warehouse
    with duckdb.connect(str(wh.duckdb_path), read_only=True) as con:
        dup_values = con.sql(
            "SELECT count(*) FROM (SELECT 1 FROM indicator_values "
            "GROUP BY user_id, indicator, source, time HAVING count(*) > 1)"
        ).fetchone()
        dup_daily = con.sql(
            "SELECT count(*) FROM (SELECT 1 FROM daily_summary "
            "GROUP BY user_id, day, indicator HAVING count(*) > 1)"
        ).fetchone()
    dupes = int(dup_values[0] if dup_values else 0) + int(dup_daily[0] if dup_daily else 0)
    return dg.AssetCheckResult(passed=dupes == 0, metadata={"duplicate_keys": dupes})


@dg.asset_check(
    asset=daily_summary,
    description="Every user with an active connection has a summary within the "
    f"last {STALE_AFTER_DAYS} days.",
)
def daily_summary_freshness(mirobody: MirobodyResource) -> dg.AssetCheckResult:
    with mirobody.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.user_id::text, max(d.day) FROM provider_connections c "
                "LEFT JOIN daily_summary d ON d.user_id = c.user_id "
                "WHERE c.status = 'active' GROUP BY c.user_id"
            )
        ).all()
    cutoff = datetime.now(UTC).date() - timedelta(days=STALE_AFTER_DAYS)
    stale = sorted(user for user, latest in rows if latest is None or latest < cutoff)
    return dg.AssetCheckResult(
        passed=not stale,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "users": len(rows),
            "stale_users": dg.MetadataValue.json(stale[:50]),
            "stale_count": len(stale),
        },
    )


@dg.asset_check(
    asset=daily_summary,
    description="The latest day's row count is at least half the median of the "
    "seven days before it.",
)
def daily_summary_row_counts(mirobody: MirobodyResource) -> dg.AssetCheckResult:
    with mirobody.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT day, count(*) FROM daily_summary GROUP BY day ORDER BY day DESC LIMIT 8")
        ).all()
    counts = pl.DataFrame(rows, schema={"day": pl.Date, "n": pl.Int64}, orient="row")
    if counts.height < 2:
        return dg.AssetCheckResult(passed=True, metadata={"days_seen": counts.height})
    latest = int(counts["n"][0])
    median = float(counts["n"][1:].median() or 0)  # type: ignore[arg-type]
    return dg.AssetCheckResult(
        passed=latest >= ROW_COUNT_FLOOR * median,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "latest_day": str(counts["day"][0]),
            "latest_rows": latest,
            "median_previous": median,
        },
    )


def pull_failures_check(raw: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    slug = raw.key.path[-1].removeprefix("raw_")

    @dg.asset_check(
        asset=raw,
        name="pull_failures",
        description="No user-days of this vendor are waiting for a retry (warn) or "
        "gave up after the last retry (error).",
    )
    def _check(mirobody: MirobodyResource) -> dg.AssetCheckResult:
        with mirobody.engine.connect() as conn:
            summary = retry_summary(conn, slug, timedelta(days=2))
        return dg.AssetCheckResult(
            passed=not summary.failed and not summary.waiting,
            severity=(
                dg.AssetCheckSeverity.ERROR if summary.failed else dg.AssetCheckSeverity.WARN
            ),
            metadata={
                "waiting_for_retry": summary.waiting,
                "gave_up": summary.failed,
                "last_cause": summary.last_error or "",
            },
        )

    return _check


ALL_CHECKS = [
    indicator_values_contract,
    warehouse_unique_keys,
    daily_summary_freshness,
    daily_summary_row_counts,
    *(pull_failures_check(raw) for raw in RAW_ASSETS),
]
