"""Recording sync requests so that a burst of them is one piece of work, not a burst of runs.

A webhook delivery or a REST sync for a user and provider whose days overlap (or touch) those
of a request still pending is folded into it: the pending request widens to cover both, and
counts the deliveries it stands for. Only `pending` rows are touched; once the sensor has
queued a request, a new one is recorded beside it. Concurrent callers for the same user and
provider are serialised by a transaction-scoped advisory lock.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mirobody_assets.storage.models import SyncRequest

PENDING = "pending"
# Kinds that ask for "whatever changed on these days": safe to merge. Backfills and retries keep
# their own rows (a retry counts its attempts by its exact days).
COALESCED_KINDS = ("webhook", "sync")


def record_sync_request(session: Session, user_id: uuid.UUID, provider: str | None, kind: str,
                        start: date, end: date, requested_by: str,
                        payload: dict[str, Any] | None = None) -> SyncRequest:
    """Add a pending request, or widen the overlapping pending one of the same user, provider
    and kind; the caller commits."""
    if kind in COALESCED_KINDS:
        session.execute(select(func.pg_advisory_xact_lock(
            func.hashtext(f"sync-request|{user_id}|{provider}"))))
        existing = session.scalars(select(SyncRequest).where(
            SyncRequest.user_id == user_id, SyncRequest.status == PENDING,
            SyncRequest.kind == kind,
            SyncRequest.provider.is_(None) if provider is None
            else SyncRequest.provider == provider,
            SyncRequest.start_day <= end + timedelta(days=1),
            SyncRequest.end_day >= start - timedelta(days=1),
        ).order_by(SyncRequest.created_at, SyncRequest.id).limit(1).with_for_update()).first()
        if existing is not None:
            existing.start_day = min(existing.start_day, start)
            existing.end_day = max(existing.end_day, end)
            merged: dict[str, Any] = dict(existing.payload or {})
            merged["deliveries"] = int(merged.get("deliveries", 1)) + 1
            existing.payload = merged
            return existing
    row = SyncRequest(user_id=user_id, provider=provider, kind=kind, start_day=start,
                      end_day=end, requested_by=requested_by, payload=payload)
    session.add(row)
    session.flush()
    return row

