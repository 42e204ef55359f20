"""The caller's own account."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, SessionDep
from api.errors import ERROR_RESPONSES
from api.schemas.accounts import UserPublic, UserUpdate
from api.services import accounts

router = APIRouter(prefix="/v1/me", tags=["accounts"], responses=ERROR_RESPONSES)


@router.get("", response_model=UserPublic)
def read_me(user: CurrentUser) -> UserPublic:
    """The account of the caller."""
    return UserPublic.model_validate(user)


@router.patch("", response_model=UserPublic)
def update_me(body: UserUpdate, user: CurrentUser, session: SessionDep) -> UserPublic:
    """Change the caller's display name or time zone."""
    return UserPublic.model_validate(accounts.update_user(session, user, body))
