"""Dependencies as `Annotated` aliases: the state, a database session, the caller, limits."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.errors import UnauthorizedError
from api.ratelimit import Limit
from api.security import AccessClaims
from api.services.accounts import verify_access_token
from api.state import AppState, get_state
from mirobody_assets.storage.models import User
from providers.registry import ProviderRegistry

StateDep = Annotated[AppState, Depends(get_state)]

_bearer = HTTPBearer(auto_error=False, description="An access token from /v1/auth/login.")


async def get_session(state: StateDep) -> AsyncIterator[Session]:
    """One session per request; services commit what they change.

    Async so that opening it (no I/O) costs no thread hop; closing it (a ROLLBACK on the
    pooled connection) runs in the threadpool, never blocking the event loop.
    """
    session = state.sessions()
    try:
        yield session
    finally:
        await run_in_threadpool(session.close)


SessionDep = Annotated[Session, Depends(get_session)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limit_by_ip(request: Request, state: StateDep) -> None:
    """Per-IP limit for routes without a caller (callbacks)."""
    state.limiter.check(Limit("ip", client_ip(request), state.api.rate_limit_ip_per_minute))


def limit_auth_attempts(request: Request, state: StateDep) -> None:
    """A tighter per-IP limit on register, login and refresh (password guessing)."""
    ip = client_ip(request)
    state.limiter.check(
        Limit("ip", ip, state.api.rate_limit_ip_per_minute),
        Limit("auth", ip, state.api.rate_limit_auth_ip_per_minute),
    )


def get_access_claims(
    request: Request,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AccessClaims:
    """The claims of the request's access token (valid, not revoked by a logout)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        state.limiter.check(Limit("ip", client_ip(request), state.api.rate_limit_ip_per_minute))
        raise UnauthorizedError("missing bearer token")
    return verify_access_token(state, credentials.credentials)


AccessClaimsDep = Annotated[AccessClaims, Depends(get_access_claims)]


def get_current_user(
    request: Request,
    state: StateDep,
    session: SessionDep,
    claims: AccessClaimsDep,
) -> User:
    """The caller, from a valid access token; counts the request against both limits."""
    state.limiter.check(
        Limit("ip", client_ip(request), state.api.rate_limit_ip_per_minute),
        Limit("user", str(claims.user_id), state.api.rate_limit_user_per_minute),
    )
    user = session.get(User, claims.user_id)
    if user is None:
        raise UnauthorizedError("invalid access token", code="invalid_token")
    request.state.user_id = str(user.id)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_optional_user_id(
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> uuid.UUID | None:
    """The caller's id when a valid token is sent (OAuth callbacks bind to it if present)."""
    if credentials is None:
        return None
    return verify_access_token(state, credentials.credentials).user_id


OptionalUserId = Annotated[uuid.UUID | None, Depends(get_optional_user_id)]


def get_registry(state: StateDep) -> ProviderRegistry:
    return state.registry


RegistryDep = Annotated[ProviderRegistry, Depends(get_registry)]
