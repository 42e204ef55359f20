"""The caller's own account."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, SessionDep, StateDep
from api.errors import ERROR_RESPONSES
from api.schemas.accounts import UserPublic, UserUpdate
from api.schemas.deletion import DeletionReport
from api.schemas.timezones import TimeZoneChange, TimeZonePublic, TimeZoneUpdate
from api.services import accounts, timezones
from api.services.deletion import delete_account
from api.services.providers import revoke_all

router = APIRouter(prefix="/v1/me", tags=["accounts"], responses=ERROR_RESPONSES)


@router.get("", response_model=UserPublic)
def read_me(user: CurrentUser) -> UserPublic:
    """The account of the caller."""
    return UserPublic.model_validate(user)


@router.patch("", response_model=UserPublic)
def update_me(body: UserUpdate, user: CurrentUser, session: SessionDep) -> UserPublic:
    """Change the caller's display name or time zone (a new zone holds from today on; see
    PUT /v1/me/timezone to date it)."""
    return UserPublic.model_validate(accounts.update_user(session, user, body))


@router.get("/timezone", response_model=TimeZonePublic)
def read_timezone(user: CurrentUser, session: SessionDep) -> TimeZonePublic:
    """The caller's time zone today and its history: what dates the samples a vendor sends
    without an offset (Oura heart rate, some Polar and Withings samples)."""
    return timezones.read_time_zone(session, user)


@router.put("/timezone", response_model=TimeZoneChange)
def change_timezone(body: TimeZoneUpdate, user: CurrentUser, session: SessionDep) -> TimeZoneChange:
    """Set where the caller lives from a local day on (`effective_from` null: always). The
    stored days whose values it re-dates are re-derived; the answer lists those requests."""
    return timezones.change_time_zone(session, user, body.zone, body.effective_from)


@router.delete("", response_model=DeletionReport)
async def delete_me(user: CurrentUser, state: StateDep, session: SessionDep) -> DeletionReport:
    """Delete the account and all of it: vendor grants, data, warehouse files, sessions."""
    revocations = await revoke_all(state, user.id)
    return await run_in_threadpool(delete_account, state, session, user, revocations)
