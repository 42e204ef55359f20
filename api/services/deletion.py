"""Deleting a user's data everywhere it lives: Postgres serving tables, the fact table's and
the warehouse's per-user Parquet files (the DuckDB file holds only views over them), and with
the account also its row of the warehouse's users file, the vendor grants, tokens and login
sessions."""

from __future__ import annotations

import logging
import uuid
from typing import Any, cast

from sqlalchemy import CursorResult, delete
from sqlalchemy.orm import Session

from api.schemas.deletion import DeletionReport
from api.services import apple_health
from api.state import AppState
from mirobody_assets.storage.auth_models import RefreshToken
from mirobody_assets.storage.facts import fact_store
from mirobody_assets.storage.models import (
    AppleHealthImport,
    ChatSession,
    DailySummary,
    ProviderConnection,
    QuarantinedValue,
    RawRecord,
    SyncRequest,
    User,
)
from mirobody_assets.storage.user_locks import lock_for_deletion
from mirobody_assets.storage.warehouse import Warehouse

log = logging.getLogger(__name__)

# Health data, in a deletion order that never trips a foreign key.
_DATA_TABLES = (
    ("daily_summary", DailySummary.__table__, DailySummary.user_id),
    ("quarantined_values", QuarantinedValue.__table__, QuarantinedValue.partition_user),
    ("raw_records", RawRecord.__table__, RawRecord.user_id),
    ("sync_requests", SyncRequest.__table__, SyncRequest.user_id),
    ("chat_sessions", ChatSession.__table__, ChatSession.user_id),
    ("apple_health_imports", AppleHealthImport.__table__, AppleHealthImport.user_id),
)
_ACCOUNT_TABLES = (
    ("provider_connections", ProviderConnection.__table__, ProviderConnection.user_id),
    ("refresh_tokens", RefreshToken.__table__, RefreshToken.user_id),
)


def _delete_rows(session: Session, user_id: uuid.UUID, tables: tuple) -> dict[str, int]:  # type: ignore[type-arg]
    counts: dict[str, int] = {}
    for name, table, column in tables:
        result = cast("CursorResult[Any]", session.execute(delete(table).where(column == user_id)))
        counts[name] = result.rowcount
    return counts


def _delete_warehouse(
    state: AppState, user_id: uuid.UUID, account: bool = False
) -> tuple[int, str]:
    """Remove the user's fact files and warehouse files (and, with the account, its row of
    the warehouse's users file); (files removed, status)."""
    settings = state.settings
    warehouse = Warehouse(settings.warehouse_path, settings.data_dir / "parquet")
    try:
        # The fact files normally sit inside the warehouse folder; removing them first keeps
        # a store configured elsewhere covered too (and counts each file once).
        removed = fact_store(settings.data_dir, settings.facts_url).delete_user(str(user_id))
        removed += warehouse.delete_user(str(user_id))
        if account:
            warehouse.forget_user(str(user_id))
    except OSError as exc:
        log.error(
            "warehouse deletion failed for a user: %s",
            type(exc).__name__,
            extra={"user_id": str(user_id)},
        )
        return 0, f"error: {type(exc).__name__}"
    return removed, "deleted" if removed else "nothing to delete"


def delete_health_data(state: AppState, session: Session, user_id: uuid.UUID) -> DeletionReport:
    """Delete the caller's health data; the account and its provider links stay."""
    lock_for_deletion(session, user_id)  # writes in flight finish first
    counts = _delete_rows(session, user_id, _DATA_TABLES)
    files, status = _delete_warehouse(state, user_id)
    apple_health.delete_uploads(state.settings.data_dir, user_id)
    session.commit()
    state.metrics.rows_processed.labels("deleted").inc(sum(counts.values()))
    log.info("health data deleted", extra={"user_id": str(user_id), "count": sum(counts.values())})
    return DeletionReport(postgres=counts, warehouse_parquet_files=files, warehouse_status=status)


def delete_account(
    state: AppState, session: Session, user: User, revocations: dict[str, str]
) -> DeletionReport:
    """Delete everything of the caller, then the account (vendor grants revoked beforehand)."""
    user_id = user.id
    # Under the user's exclusive lock until the commit, Parquet files included: a run writing
    # this user right now finishes first (and is deleted here); one writing later finds the
    # account gone and writes nothing of it.
    lock_for_deletion(session, user_id)
    counts = _delete_rows(session, user_id, _DATA_TABLES + _ACCOUNT_TABLES)
    counts["users"] = cast(
        "CursorResult[Any]", session.execute(delete(User).where(User.id == user_id))
    ).rowcount
    files, status = _delete_warehouse(state, user_id, account=True)
    apple_health.delete_uploads(state.settings.data_dir, user_id)
    session.commit()
    state.metrics.rows_processed.labels("deleted").inc(sum(counts.values()))
    log.info("account deleted", extra={"user_id": str(user_id)})
    return DeletionReport(
        postgres=counts,
        warehouse_parquet_files=files,
        warehouse_status=status,
        vendor_revocations=revocations,
        account_deleted=True,
    )
