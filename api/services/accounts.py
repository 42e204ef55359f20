"""Accounts: registration, login, refresh-token rotation with reuse detection, logout."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import ConflictError, UnauthorizedError
from api.schemas.accounts import TokenPair, UserCreate, UserUpdate
from api.security import hash_refresh_token, new_refresh_token
from api.state import AppState
from mirobody_assets.storage.auth_models import RefreshToken
from mirobody_assets.storage.models import User

log = logging.getLogger(__name__)


def register_user(state: AppState, session: Session, body: UserCreate) -> User:
    user = User(email=body.email, display_name=body.display_name,
                timezone=body.timezone, password_hash=state.passwords.hash(body.password))
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ConflictError("an account with this email exists", code="email_taken") from None
    log.info("account created", extra={"user_id": str(user.id)})
    return user


def authenticate(state: AppState, session: Session, email: str, password: str) -> User:
    user = session.scalars(
        select(User).where(func.lower(User.email) == email.strip().lower())).first()
    if not state.passwords.verify(user.password_hash if user else None, password) or not user:
        raise UnauthorizedError("wrong email or password", code="invalid_credentials")
    return user


def issue_tokens(state: AppState, session: Session, user_id: uuid.UUID,
                 family_id: uuid.UUID | None = None) -> TokenPair:
    token, digest = new_refresh_token()
    session.add(RefreshToken(
        user_id=user_id, family_id=family_id or uuid.uuid4(), token_hash=digest,
        expires_at=datetime.now(UTC) + timedelta(seconds=state.api.refresh_token_ttl_s)))
    session.commit()
    return TokenPair(access_token=state.tokens.issue(user_id), refresh_token=token,
                     expires_in=state.tokens.ttl_s)


def rotate_refresh_token(state: AppState, session: Session, token: str) -> TokenPair:
    """Spend a refresh token for a new pair. A spent token used again revokes its family."""
    now = datetime.now(UTC)
    row = session.scalars(select(RefreshToken).where(
        RefreshToken.token_hash == hash_refresh_token(token)).with_for_update()).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise UnauthorizedError("invalid refresh token", code="invalid_token")
    if row.used_at is not None:
        session.execute(update(RefreshToken).where(RefreshToken.family_id == row.family_id)
                        .values(revoked_at=now))
        session.commit()
        log.warning("refresh token reuse: session family revoked",
                    extra={"user_id": str(row.user_id)})
        raise UnauthorizedError("invalid refresh token", code="invalid_token")
    row.used_at = now
    return issue_tokens(state, session, row.user_id, row.family_id)


def revoke_refresh_token(session: Session, user_id: uuid.UUID, token: str) -> None:
    """Log out: revoke the token's family (only the caller's own)."""
    row = session.scalars(select(RefreshToken).where(
        RefreshToken.token_hash == hash_refresh_token(token),
        RefreshToken.user_id == user_id)).first()
    if row is None:
        raise UnauthorizedError("invalid refresh token", code="invalid_token")
    session.execute(update(RefreshToken).where(RefreshToken.family_id == row.family_id)
                    .values(revoked_at=datetime.now(UTC)))
    session.commit()


def update_user(session: Session, user: User, body: UserUpdate) -> User:
    for name, value in body.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(user, name, value)
    session.commit()
    return user
