"""Secret webhook URLs for the vendors that sign nothing (Withings, Garmin).

Such a vendor's only proof of authenticity is that it knows the callback URL registered with
it, so the URL carries a random secret: `/v1/webhooks/<provider>/whk_<secret>`. Only the
secret's SHA-256 is stored; the URL is shown once, when it is created (`mirobody webhook-url`).
Several may be active at once, so a secret can be rotated without losing deliveries: create
the new one, register it with the vendor, then revoke the old.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, Index, String, func, select, text, update
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, Session, mapped_column

from mirobody_assets.storage.models import Base

SECRET_PREFIX = "whk_"  # noqa: S105 - a public marker, not a secret
MAX_SECRET_CHARS = 100


class WebhookSecret(Base):
    """One secret webhook URL of one provider (hash only), revocable."""

    __tablename__ = "webhook_secrets"
    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    provider: Mapped[str] = mapped_column(String(64))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the secret, so an operator can tell URLs apart.
    hint: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        Index(
            "ix_webhook_secrets_provider", "provider", postgresql_where=text("revoked_at IS NULL")
        ),
    )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_webhook_secret(session: Session, provider: str) -> str:
    """A new active secret for `provider`; returned once, never stored in clear."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    session.add(
        WebhookSecret(
            provider=provider, secret_hash=_hash(secret), hint=secret[: len(SECRET_PREFIX) + 4]
        )
    )
    session.commit()
    return secret


def revoke_webhook_secrets(session: Session, provider: str, *, keep: str | None = None) -> int:
    """Revoke every active secret of `provider` except `keep`; returns how many."""
    query = update(WebhookSecret).where(
        WebhookSecret.provider == provider, WebhookSecret.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(WebhookSecret.secret_hash != _hash(keep))
    count = session.execute(query.values(revoked_at=datetime.now(UTC))).rowcount  # type: ignore[attr-defined]
    session.commit()
    return int(count or 0)


def check_webhook_secret(session: Session, provider: str, given: str | None) -> bool:
    """Whether `given` is an active secret of `provider`, compared in constant time against
    every active hash (the look-up does not depend on how much of the secret matches)."""
    if not given or len(given) > MAX_SECRET_CHARS:
        return False
    digest = _hash(given)
    stored = session.scalars(
        select(WebhookSecret.secret_hash).where(
            WebhookSecret.provider == provider, WebhookSecret.revoked_at.is_(None)
        )
    ).all()
    found = False
    for candidate in stored:
        found |= hmac.compare_digest(candidate, digest)
    return found
