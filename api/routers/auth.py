"""Accounts: register, log in, refresh and log out."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response, status

from api.deps import AccessClaimsDep, CurrentUser, SessionDep, StateDep, limit_auth_attempts
from api.errors import ERROR_RESPONSES
from api.schemas.accounts import (
    LoginRequest,
    PasswordChange,
    RefreshRequest,
    TokenPair,
    UserCreate,
    UserPublic,
)
from api.services import accounts

router = APIRouter(prefix="/v1/auth", tags=["accounts"], responses=ERROR_RESPONSES)


@router.post(
    "/register",
    response_model=UserPublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(limit_auth_attempts)],
)
def register(body: UserCreate, state: StateDep, session: SessionDep) -> UserPublic:
    """Create an account. The password must be hard to guess (422 `weak_password` says why)
    and is hashed with argon2id; the email is stored normalised (NFKC, case folded)."""
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
def logout(
    body: RefreshRequest,
    user: CurrentUser,
    claims: AccessClaimsDep,
    state: StateDep,
    session: SessionDep,
) -> Response:
    """Revoke the refresh token (and the login session it belongs to) and the access token
    sent with this request, which is refused from now on."""
    accounts.log_out(state, session, claims, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/password", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(limit_auth_attempts)]
)
def change_password(
    body: PasswordChange, user: CurrentUser, state: StateDep, session: SessionDep
) -> Response:
    """Change the caller's password (the current one is required). Every refresh token of the
    account is revoked: other logins end when their access token expires."""
    accounts.change_password(state, session, user, body.current_password, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
