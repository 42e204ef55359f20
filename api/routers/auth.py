"""Accounts: register, log in, refresh and log out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response, status

from api.deps import CurrentUser, SessionDep, StateDep, limit_auth_attempts
from api.errors import ERROR_RESPONSES
from api.schemas.accounts import LoginRequest, RefreshRequest, TokenPair, UserCreate, UserPublic
from api.services import accounts

router = APIRouter(prefix="/v1/auth", tags=["accounts"], responses=ERROR_RESPONSES)


@router.post("/register", response_model=UserPublic, status_code=status.HTTP_201_CREATED,
             dependencies=[Depends(limit_auth_attempts)])
def register(body: UserCreate, state: StateDep, session: SessionDep) -> UserPublic:
    """Create an account (the password is hashed with argon2id)."""
    return UserPublic.model_validate(accounts.register_user(state, session, body))


@router.post("/login", response_model=TokenPair, dependencies=[Depends(limit_auth_attempts)])
def login(body: LoginRequest, state: StateDep, session: SessionDep) -> TokenPair:
    """Exchange email and password for an access token and a refresh token."""
    user = accounts.authenticate(state, session, body.email, body.password)
    return accounts.issue_tokens(state, session, user.id)


@router.post("/refresh", response_model=TokenPair, dependencies=[Depends(limit_auth_attempts)])
def refresh(body: RefreshRequest, state: StateDep, session: SessionDep) -> TokenPair:
    """Spend a refresh token for a new pair; reusing a spent one ends that login session."""
    return accounts.rotate_refresh_token(state, session, body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(body: RefreshRequest, user: CurrentUser, session: SessionDep) -> Response:
    """Revoke the refresh token (and the login session it belongs to)."""
    accounts.revoke_refresh_token(session, user.id, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
