"""Sync and backfill requests for the pipeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from api.deps import CurrentUser, SessionDep
from api.errors import ERROR_RESPONSES
from api.schemas.sync import SyncRequestCreate, SyncRequestPublic, SyncRequestsPublic
from api.services import sync

router = APIRouter(prefix="/v1/sync-requests", tags=["sync"], responses=ERROR_RESPONSES)


@router.post("", response_model=SyncRequestPublic, status_code=status.HTTP_202_ACCEPTED)
def create_sync_request(
    body: SyncRequestCreate, user: CurrentUser, session: SessionDep
) -> SyncRequestPublic:
    """Ask for a sync of recent days or a backfill of a date range (the pipeline picks it up)."""
    return SyncRequestPublic.model_validate(sync.request_sync(session, user, body))


@router.get("", response_model=SyncRequestsPublic)
def list_sync_requests(
    user: CurrentUser, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> SyncRequestsPublic:
    """The caller's sync requests, newest first, with their status."""
    rows = sync.list_sync_requests(session, user.id, limit)
    return SyncRequestsPublic(
        data=[SyncRequestPublic.model_validate(r) for r in rows], count=len(rows)
    )


@router.get("/{request_id}", response_model=SyncRequestPublic)
def read_sync_request(request_id: int, user: CurrentUser, session: SessionDep) -> SyncRequestPublic:
    """One of the caller's sync requests."""
    return SyncRequestPublic.model_validate(sync.get_sync_request(session, user.id, request_id))
