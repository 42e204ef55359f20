"""Sync requests, in one place: work asked of the pipeline and its whole life.

    pending --claim--> queued --run succeeds--> done
                         |----run fails------> failed
                         |----run cancelled--> canceled
                         '----no run started--> pending again (bounded), then failed

The API, the webhooks and the pipeline's sensors all go through these functions; nothing else
writes the table (account deletion aside). A burst of requests for one user and provider whose
days overlap or touch a pending one is folded into it (see `record_sync_request`). No Dagster
here: the API imports this module.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session

from mirobody_assets.storage.models import SyncRequest


class SyncStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"


class SyncKind(StrEnum):
    SYNC = "sync"
    BACKFILL = "backfill"
    WEBHOOK = "webhook"
    RETRY = "retry"


# Kinds that ask for "whatever changed on these days": safe to merge. Backfills and retries keep
# their own rows (a retry counts its attempts by its exact days).
COALESCED_KINDS = (SyncKind.WEBHOOK, SyncKind.SYNC)
# A failed pull is retried this many times in all, then kept as failed with its cause.
MAX_RETRY_ATTEMPTS = 3
# A claimed request whose run never started is put back this many times, then failed.
MAX_LAUNCH_ATTEMPTS = 3


class Failure(Protocol):
    """What a failed pull reports (ingest.PartitionFailure)."""

    @property
    def user_id(self) -> str: ...
    @property
    def provider(self) -> str: ...
    @property
    def days(self) -> tuple[str, ...]: ...
    @property
    def cause(self) -> str: ...
    @property
    def needs_reauth(self) -> bool: ...


@dataclass(frozen=True)
class Claimed:
    """A request the sensor turned into a run; `attempt` makes each launch's run key unique."""

    id: int
    user_id: str
    start_day: date
    end_day: date
    attempt: int


def record_sync_request(
    session: Session,
    user_id: uuid.UUID,
    provider: str | None,
    kind: str,
    start: date,
    end: date,
    requested_by: str,
    payload: dict[str, Any] | None = None,
) -> SyncRequest:
    """Add a pending request, or widen the overlapping pending one of the same user, provider
    and kind; the caller commits. Concurrent callers for one user and provider are serialised
    by a transaction-scoped advisory lock."""
    if kind in COALESCED_KINDS:
        session.execute(
            select(func.pg_advisory_xact_lock(func.hashtext(f"sync-request|{user_id}|{provider}")))
        )
        existing = session.scalars(
            select(SyncRequest)
            .where(
                SyncRequest.user_id == user_id,
                SyncRequest.status == SyncStatus.PENDING,
                SyncRequest.kind == kind,
                SyncRequest.provider.is_(None)
                if provider is None
                else SyncRequest.provider == provider,
                SyncRequest.start_day <= end + timedelta(days=1),
                SyncRequest.end_day >= start - timedelta(days=1),
            )
            .order_by(SyncRequest.created_at, SyncRequest.id)
            .limit(1)
            .with_for_update()
        ).first()
        if existing is not None:
            existing.start_day = min(existing.start_day, start)
            existing.end_day = max(existing.end_day, end)
            merged: dict[str, Any] = dict(existing.payload or {})
            merged["deliveries"] = int(merged.get("deliveries", 1)) + 1
            existing.payload = merged
            return existing
    row = SyncRequest(
        user_id=user_id,
        provider=provider,
        kind=kind,
        start_day=start,
        end_day=end,
        requested_by=requested_by,
        payload=payload,
    )
    session.add(row)
    session.flush()
    return row


def claim_pending(conn: Connection, known_users: set[str], limit: int) -> list[Claimed]:
    """Pending requests of users the pipeline knows, oldest first, moved to queued (skipping
    rows another claimer holds)."""
    if not known_users:
        return []
    # Filtered before the limit: requests of users without a partition yet must not starve
    # everyone else's.
    rows = conn.execute(
        text(
            "SELECT id, user_id::text, start_day, end_day, "
            "COALESCE((payload->>'launch_attempts')::int, 0) FROM sync_requests "
            "WHERE status = 'pending' AND user_id::text = ANY(CAST(:known AS text[])) "
            "ORDER BY created_at, id LIMIT :n FOR UPDATE SKIP LOCKED"
        ),
        {"n": limit, "known": sorted(known_users)},
    ).all()
    ready = [Claimed(r[0], r[1], r[2], r[3], r[4] + 1) for r in rows]
    if ready:
        conn.execute(
            text(
                "UPDATE sync_requests SET status = 'queued', started_at = now(), "
                "payload = COALESCE(payload, '{}'::jsonb) || jsonb_build_object("
                "'launch_attempts', COALESCE((payload->>'launch_attempts')::int, 0) + 1) "
                "WHERE id = ANY(:ids)"
            ),
            {"ids": [c.id for c in ready]},
        )
    return ready


def close_request(
    conn: Connection, request_id: int, status: SyncStatus, error: str | None = None
) -> bool:
    """Record a queued request's outcome (done, failed, canceled); False when it was not queued
    any more (closed already: the outcome is recorded once)."""
    closed = conn.execute(
        text(
            "UPDATE sync_requests SET status = :s, error = :e, finished_at = now() "
            "WHERE id = :id AND status = 'queued'"
        ),
        {"s": str(status), "e": error[:2000] if error else None, "id": request_id},
    )
    return bool(closed.rowcount)


def queued_requests(conn: Connection) -> list[tuple[int, datetime]]:
    """Every queued request and when it was claimed (for reconciling with the runs)."""
    return [
        (r[0], r[1])
        for r in conn.execute(
            text("SELECT id, started_at FROM sync_requests WHERE status = 'queued' ORDER BY id")
        ).all()
    ]


def release_unstarted(conn: Connection, request_id: int, why: str) -> SyncStatus:
    """A claimed request whose run never started: pending again, or failed (with the reason)
    once it has been launched MAX_LAUNCH_ATTEMPTS times."""
    attempts = conn.execute(
        text(
            "SELECT COALESCE((payload->>'launch_attempts')::int, 0) FROM sync_requests "
            "WHERE id = :id AND status = 'queued' FOR UPDATE"
        ),
        {"id": request_id},
    ).scalar()
    if attempts is None:
        return SyncStatus.QUEUED  # closed meanwhile
    if attempts >= MAX_LAUNCH_ATTEMPTS:
        close_request(
            conn, request_id, SyncStatus.FAILED, f"no run started after {attempts} launches: {why}"
        )
        return SyncStatus.FAILED
    conn.execute(
        text("UPDATE sync_requests SET status = 'pending', started_at = NULL WHERE id = :id"),
        {"id": request_id},
    )
    return SyncStatus.PENDING


def request_retries(conn: Connection, failures: Sequence[Failure]) -> dict[str, int]:
    """Retry requests for exactly the failed user-days (a re-authorisation is the user's, not
    retried). After MAX_RETRY_ATTEMPTS the request is recorded as failed with its cause."""
    queued = gave_up = 0
    for failure in failures:
        if failure.needs_reauth:
            continue
        first, last = date.fromisoformat(failure.days[0]), date.fromisoformat(failure.days[-1])
        attempts = conn.execute(
            text(
                "SELECT count(*) FROM sync_requests WHERE kind = 'retry' AND user_id = :u "
                "AND provider = :p AND start_day = :s AND end_day = :e"
            ),
            {"u": failure.user_id, "p": failure.provider, "s": first, "e": last},
        ).scalar_one()
        exhausted = attempts >= MAX_RETRY_ATTEMPTS
        # (nothing for an account deleted meanwhile)
        conn.execute(
            text(
                "INSERT INTO sync_requests (user_id, provider, kind, start_day, end_day, status, "
                "requested_by, error, payload) SELECT :u, :p, 'retry', :s, :e, :status, "
                "'pipeline', :error, CAST(:payload AS jsonb) "
                "WHERE EXISTS (SELECT 1 FROM users WHERE id = CAST(:u AS uuid))"
            ),
            {
                "u": failure.user_id,
                "p": failure.provider,
                "s": first,
                "e": last,
                "status": SyncStatus.FAILED if exhausted else SyncStatus.PENDING,
                "error": failure.cause[:2000],
                "payload": f'{{"attempt": {attempts + 1}}}',
            },
        )
        if exhausted:
            gave_up += 1
        else:
            queued += 1
    return {"retries_queued": queued, "retries_exhausted": gave_up}


@dataclass(frozen=True)
class RetrySummary:
    waiting: int
    failed: int
    last_error: str | None


def retry_summary(conn: Connection, provider: str, since: timedelta) -> RetrySummary:
    """The provider's recent retry requests still to run, and those that gave up, with the
    latest cause."""
    rows = conn.execute(
        text(
            "SELECT status, count(*), max(error) FROM sync_requests WHERE kind = 'retry' "
            "AND provider = :p AND status IN ('pending', 'queued', 'failed') "
            "AND created_at > now() - :since GROUP BY status"
        ),
        {"p": provider, "since": since},
    ).all()
    counts = {r[0]: int(r[1]) for r in rows}
    errors = {r[0]: r[2] for r in rows if r[2]}
    return RetrySummary(
        counts.get("pending", 0) + counts.get("queued", 0),
        counts.get("failed", 0),
        errors.get("failed") or errors.get("pending") or errors.get("queued"),
    )
