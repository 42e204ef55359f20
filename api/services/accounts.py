"""Accounts: registration, login, refresh-token rotation with reuse detection, logout, and the
check every access token passes (signature, expiry, not revoked by a logout)."""

from __future__ import annotations

import logging
import math
import uuid
import zoneinfo
from datetime import UTC, datetime, timedelta

import redis
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import ConflictError, InvalidRequestError, UnauthorizedError, UnavailableError
from api.schemas.accounts import TokenPair, UserCreate, UserUpdate
from api.schemas.text import normalise_email
from api.security import (
    LEEWAY_S,
    AccessClaims,
    hash_refresh_token,
    new_refresh_token,
    weak_password_reason,
)
from api.services.timezones import change_time_zone
from api.state import AppState
from mirobody_assets.storage.auth_models import RefreshToken
from mirobody_assets.storage.models import User
from mirobody_assets.storage.timezones import set_zone

log = logging.getLogger(__name__)


def register_user(state: AppState, session: Session, body: UserCreate) -> User:
    known = [
        body.email,
        body.email.partition("@")[0],
        body.display_name or "",
        *(body.display_name or "").split(),
    ]
    reason = weak_password_reason(body.password, known, state.api.password_min_score)
    if reason is not None:
        raise InvalidRequestError(reason, code="weak_password")
    user = User(
        email=body.email,
        display_name=body.display_name,
        timezone=body.timezone,
        password_hash=state.passwords.hash(body.password),
    )
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ConflictError("an account with this email exists", code="email_taken") from None
    if "timezone" in body.model_fields_set and body.timezone != "UTC":
        set_zone(session.connection(), str(user.id), body.timezone, None)  # always, as said
        session.commit()
    log.info("account created", extra={"user_id": str(user.id)})
    return user


def authenticate(state: AppState, session: Session, email: str, password: str) -> User:
    """The account of `email` (compared normalised, as stored) whose password matches."""
    user = session.scalars(
        select(User).where(func.lower(User.email) == normalise_email(email))
    ).first()
    if not state.passwords.verify(user.password_hash if user else None, password) or not user:
        raise UnauthorizedError("wrong email or password", code="invalid_credentials")
    return user


def issue_tokens(
    state: AppState, session: Session, user_id: uuid.UUID, family_id: uuid.UUID | None = None
) -> TokenPair:
    token, digest = new_refresh_token()
    session.add(
        RefreshToken(
            user_id=user_id,
            family_id=family_id or uuid.uuid4(),
            token_hash=digest,
            expires_at=datetime.now(UTC) + timedelta(seconds=state.api.refresh_token_ttl_s),
        )
    )
    session.commit()
    return TokenPair(
        access_token=state.tokens.issue(user_id), refresh_token=token, expires_in=state.tokens.ttl_s
    )


def rotate_refresh_token(state: AppState, session: Session, token: str) -> TokenPair:
    """Spend a refresh token for a new pair. A spent token used again revokes its family."""
    now = datetime.now(UTC)
    row = session.scalars(
        select(RefreshToken)
        .where(RefreshToken.token_hash == hash_refresh_token(token))
        .with_for_update()
    ).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise UnauthorizedError("invalid refresh token", code="invalid_token")
    if row.used_at is not None:
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == row.family_id)
            .values(revoked_at=now)
        )
        session.commit()
        log.warning(
            "refresh token reuse: session family revoked", extra={"user_id": str(row.user_id)}
        )
        raise UnauthorizedError("invalid refresh token", code="invalid_token")
    row.used_at = now
    return issue_tokens(state, session, row.user_id, row.family_id)


def revoke_refresh_token(session: Session, user_id: uuid.UUID, token: str) -> None:
    """Log out: revoke the token's family (only the caller's own)."""
    row = session.scalars(
        select(RefreshToken).where(
            RefreshToken.token_hash == hash_refresh_token(token), RefreshToken.user_id == user_id
        )
    ).first()
    if row is None:
        raise UnauthorizedError("invalid refresh token", code="invalid_token")
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == row.family_id)
        .values(revoked_at=datetime.now(UTC))
    )
    session.commit()


def log_out(state: AppState, session: Session, claims: AccessClaims, refresh_token: str) -> None:
    """End a login: its refresh-token family, then the access token presented with it.

    In this order so that a retry after a Redis failure still passes (the family's tokens
    are found when already revoked, and the access token still opens the route).
    """
    revoke_refresh_token(session, claims.user_id, refresh_token)
    revoke_access_token(state, claims)


def _revoked_key(state: AppState, jti: str) -> str:
    return state.redis.key("revoked-access", jti)


def _session_store_down(exc: redis.RedisError) -> UnavailableError:
    log.warning("access-token revocation list unavailable (%s)", type(exc).__name__)
    return UnavailableError(
        "the session store is unavailable; retry shortly", headers={"Retry-After": "5"}
    )


def revoke_access_token(state: AppState, claims: AccessClaims) -> None:
    """Refuse this access token from now until it would have expired anyway (the Redis key
    lives exactly that long, so the list never outgrows the tokens in circulation)."""
    left = math.ceil((claims.expires_at - datetime.now(UTC)).total_seconds()) + LEEWAY_S
    if left <= 0:
        return
    try:
        state.redis.client.set(_revoked_key(state, claims.jti), "1", ex=left)
    except redis.RedisError as exc:
        raise _session_store_down(exc) from None


def verify_access_token(state: AppState, token: str) -> AccessClaims:
    """The claims of a valid access token that no logout has revoked. Every route, transport
    and callback that accepts an access token checks it here.

    Fails closed: with Redis unreachable a revoked token cannot be told apart, so the
    request is refused as unavailable (503), never let through.
    """
    claims = state.tokens.verify(token)
    try:
        revoked = state.redis.client.exists(_revoked_key(state, claims.jti))
    except redis.RedisError as exc:
        raise _session_store_down(exc) from None
    if revoked:
        raise UnauthorizedError("access token revoked (logged out)", code="token_revoked")
    return claims


def update_user(session: Session, user: User, body: UserUpdate) -> User:
    """Change the display name; a new time zone holds from the person's today on (and
    re-derives the days it changes, see api.services.timezones)."""
    changes = body.model_dump(exclude_unset=True)
    zone = changes.pop("timezone", None)
    for name, value in changes.items():
        if value is not None:
            setattr(user, name, value)
    session.commit()
    if zone is not None and zone != user.timezone:
        # from the person's today where they are now
        change_time_zone(session, user, zone, datetime.now(zoneinfo.ZoneInfo(zone)).date())
    return user


def change_password(state: AppState, session: Session, user: User, current: str, new: str) -> None:
    """Replace the password after checking the current one; every login session (refresh-token
    family) of the account ends, so a stolen session does not outlive the change."""
    if not state.passwords.verify(user.password_hash, current):
        raise UnauthorizedError("the current password is wrong", code="invalid_credentials")
    known = [
        user.email,
        user.email.partition("@")[0],
        user.display_name or "",
        *(user.display_name or "").split(),
        current,
    ]
    reason = weak_password_reason(new, known, state.api.password_min_score)
    if reason is not None:
        raise InvalidRequestError(reason, code="weak_password")
    user.password_hash = state.passwords.hash(new)
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    session.commit()
    log.info("password changed", extra={"user_id": str(user.id)})
