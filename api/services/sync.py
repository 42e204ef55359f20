"""Sync and backfill requests: rows in sync_requests that the pipeline's sensor turns into runs."""

from __future__ import annotations

import logging
import uuid
import zoneinfo
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import ConflictError, InvalidRequestError, NotFoundError
from api.schemas.sync import SyncRequestCreate
from mirobody_assets.days import MAX_RANGE_DAYS, DayRangeError, check_day_range
from mirobody_assets.storage.models import ProviderConnection, SyncRequest, User
from mirobody_assets.storage.sync_requests import SyncStatus, record_sync_request

log = logging.getLogger(__name__)


def user_today(user: User) -> date:
    try:
        zone = zoneinfo.ZoneInfo(user.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return datetime.now(zone).date()


def request_sync(
    session: Session, user: User, body: SyncRequestCreate, requested_by: str = "api"
) -> SyncRequest:
    """Record a sync or backfill; an identical pending request is returned, not duplicated."""
    today = user_today(user)
    if body.kind == "sync":
        start = body.start_day or today - timedelta(days=1)
        end = body.end_day or today
    elif body.start_day is None or body.end_day is None:
        raise InvalidRequestError("a backfill needs start_day and end_day")
    else:
        start, end = body.start_day, body.end_day
    if end > today + timedelta(days=1):
        raise InvalidRequestError("end_day is in the future")
    try:
        days = check_day_range(start, end, max_days=MAX_RANGE_DAYS)
    except DayRangeError as exc:
        raise InvalidRequestError(str(exc)) from None
    start, end = days.start, days.end
    linked = session.scalars(
        select(ProviderConnection.provider).where(ProviderConnection.user_id == user.id)
    ).all()
    if body.provider is not None and body.provider not in linked:
        raise NotFoundError(f"no {body.provider} connection", code="no_connection")
    if not linked:
        raise ConflictError("link a provider first", code="no_connection")
    existing = session.scalars(
        select(SyncRequest).where(
            SyncRequest.user_id == user.id,
            SyncRequest.status == SyncStatus.PENDING,
            SyncRequest.kind == body.kind,
            SyncRequest.start_day == start,
            SyncRequest.end_day == end,
            SyncRequest.provider.is_(None)
            if body.provider is None
            else SyncRequest.provider == body.provider,
        )
    ).first()
    if existing is not None:
        return existing
    row = record_sync_request(session, user.id, body.provider, body.kind, start, end, requested_by)
    session.commit()
    log.info("sync requested", extra={"user_id": str(user.id), "provider": body.provider})
    return row


def list_sync_requests(session: Session, user_id: uuid.UUID, limit: int) -> list[SyncRequest]:
    return list(
        session.scalars(
            select(SyncRequest)
            .where(SyncRequest.user_id == user_id)
            .order_by(SyncRequest.created_at.desc(), SyncRequest.id.desc())
            .limit(limit)
        )
    )


def get_sync_request(session: Session, user_id: uuid.UUID, request_id: int) -> SyncRequest:
    row = session.scalars(
        select(SyncRequest).where(SyncRequest.id == request_id, SyncRequest.user_id == user_id)
    ).first()
    if row is None:
        raise NotFoundError("no such sync request")
    return row
