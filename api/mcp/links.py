"""Secret MCP URLs: create (the secret is returned once), list, revoke, resolve.

Only the SHA-256 of a secret is stored. A URL acts for its owner until it is revoked.
A URL reads `<base>/mcp/u/<secret>/mcp`: clients (MCP Inspector's CLI among them) pick the
transport from how the URL ends, and one that does not end in `/mcp` had its path rewritten
and its secret dropped. URLs handed out earlier, without the `/mcp` ending, keep working.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.errors import ConflictError, NotFoundError
from mirobody_assets.storage.mcp_models import McpLink

log = logging.getLogger(__name__)
SECRET_PREFIX = "mcpk_"  # noqa: S105 - a public marker, not a secret
MAX_ACTIVE_LINKS = 20
# last_used_at is written at most this often per link (not on every MCP message).
TOUCH_EVERY = timedelta(minutes=1)


def secret_url(base: str, secret: str) -> str:
    """The URL an MCP client is given for a secret (ends in /mcp: streamable HTTP)."""
    return f"{base.rstrip('/')}/mcp/u/{secret}/mcp"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_link(session: Session, user_id: uuid.UUID, name: str) -> tuple[McpLink, str]:
    """A new secret URL for the user: the row and the secret (never stored, shown once)."""
    active = session.scalar(
        select(McpLink.id)
        .where(McpLink.user_id == user_id, McpLink.revoked_at.is_(None))
        .offset(MAX_ACTIVE_LINKS - 1)
        .limit(1)
    )
    if active is not None:
        raise ConflictError(
            f"at most {MAX_ACTIVE_LINKS} active MCP URLs: revoke one first", code="too_many_links"
        )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    row = McpLink(
        user_id=user_id,
        name=name,
        secret_hash=hash_secret(secret),
        hint=secret[: len(SECRET_PREFIX) + 4],
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    log.info("mcp url created", extra={"user_id": str(user_id), "link_id": str(row.id)})
    return row, secret


def list_links(session: Session, user_id: uuid.UUID) -> list[McpLink]:
    """The user's active secret URLs, newest first (secrets are not recoverable)."""
    return list(
        session.scalars(
            select(McpLink)
            .where(McpLink.user_id == user_id, McpLink.revoked_at.is_(None))
            .order_by(McpLink.created_at.desc(), McpLink.id)
        )
    )


def revoke_link(session: Session, user_id: uuid.UUID, link_id: uuid.UUID) -> None:
    row = session.scalars(
        select(McpLink).where(
            McpLink.id == link_id, McpLink.user_id == user_id, McpLink.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        raise NotFoundError("no such MCP URL", code="no_link")
    row.revoked_at = datetime.now(UTC)
    session.commit()
    log.info("mcp url revoked", extra={"user_id": str(user_id), "link_id": str(link_id)})


def resolve_secret(session: Session, secret: str) -> uuid.UUID | None:
    """The owner of an active secret URL, or None."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 100:
        return None
    row = session.scalars(
        select(McpLink).where(
            McpLink.secret_hash == hash_secret(secret), McpLink.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    now = datetime.now(UTC)
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        session.execute(update(McpLink).where(McpLink.id == row.id).values(last_used_at=now))
        session.commit()
    return row.user_id
