"""The caller's health profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentUser, SessionDep
from api.errors import ERROR_RESPONSES
from api.schemas.health import HealthProfile
from api.services.profile import read_profile

router = APIRouter(prefix="/v1/profile", tags=["health data"], responses=ERROR_RESPONSES)


@router.get("", response_model=HealthProfile)
def get_profile(
    user: CurrentUser, session: SessionDep, days: Annotated[int, Query(ge=1, le=3660)] = 90
) -> HealthProfile:
    """Connected devices, the latest value of every indicator, and data coverage by day."""
    return read_profile(session, user, days)
