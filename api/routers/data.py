"""Deletion of the caller's health data."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, SessionDep, StateDep
from api.errors import ERROR_RESPONSES
from api.schemas.deletion import DeletionReport
from api.services.deletion import delete_health_data

router = APIRouter(prefix="/v1/data", tags=["health data"], responses=ERROR_RESPONSES)


@router.delete("", response_model=DeletionReport)
def delete_my_data(user: CurrentUser, state: StateDep, session: SessionDep) -> DeletionReport:
    """Delete the caller's health data everywhere; the account and provider links stay."""
    return delete_health_data(state, session, user.id)
