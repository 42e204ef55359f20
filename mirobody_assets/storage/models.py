"""The relational model: the contract between the pipeline (writer) and the API (reader).

PostgreSQL only: JSONB payloads, UUID keys, partial indexes, ON CONFLICT upserts.
Token columns hold AEAD ciphertext only (see api/ for the encryption); nothing here decrypts.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so Alembic migrations can drop and rename them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def _user_fk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"))


class User(Base):
    """A person with an account. Their data in every other table cascades from here."""

    __tablename__ = "users"
    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    email: Mapped[str] = mapped_column(String(320))  # normalised: NFKC, case folded
    password_hash: Mapped[str | None] = mapped_column(Text)
    display_name: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")
    created_at: Mapped[datetime] = _now()
    __table_args__ = (Index("uq_users_email_lower", func.lower(email), unique=True),)


class UserTimeZone(Base):
    """Where the person lives over time: an IANA zone from a local day on (until the next
    entry; the first entry also covers the days before it). Set by the person ('user') or
    learned from the offsets vendors state ('inferred'); see indicators.zones."""

    __tablename__ = "user_time_zones"
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    effective_from: Mapped[date] = mapped_column(Date, primary_key=True)
    zone: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = _now()


class ProviderConnection(Base):
    """A user's link to one vendor account; tokens are ciphertext under a key id."""

    __tablename__ = "provider_connections"
    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    user_id: Mapped[uuid.UUID] = _user_fk()
    provider: Mapped[str] = mapped_column(String(64))
    vendor_user_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32), server_default="active")
    scopes: Mapped[str | None] = mapped_column(Text)
    token_key_id: Mapped[str | None] = mapped_column(String(64))
    access_token_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    refresh_token_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    __table_args__ = (
        UniqueConstraint("user_id", "provider"),
        # One vendor account belongs to one Mirobody account (a second link is refused).
        Index(
            "ix_provider_connections_vendor_user",
            "provider",
            "vendor_user_id",
            unique=True,
            postgresql_where=text("vendor_user_id IS NOT NULL"),
        ),
        Index(
            "ix_provider_connections_needs_reauth",
            "provider",
            postgresql_where=text("status = 'needs_reauth'"),
        ),
    )


class RawRecord(Base):
    """One vendor document as pulled. A re-pull of identical content adds nothing."""

    __tablename__ = "raw_records"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[uuid.UUID] = _user_fk()
    provider: Mapped[str] = mapped_column(String(64))
    record_type: Mapped[str] = mapped_column(String(64))
    vendor_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[str | None] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    payload: Mapped[dict[str, object]] = mapped_column(JSONB)
    fetched_at: Mapped[datetime] = _now()
    __table_args__ = (
        UniqueConstraint(
            "user_id",
            "provider",
            "record_type",
            "vendor_id",
            "content_hash",
            name="uq_raw_records_content",
        ),
        Index("ix_raw_records_user_day", "user_id", "day"),
        Index(
            "ix_raw_records_latest", "user_id", "provider", "record_type", "vendor_id", "fetched_at"
        ),
    )


class DailySummary(Base):
    """One value per (user, local day, indicator) after merging sources by priority."""

    __tablename__ = "daily_summary"
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    indicator: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[float] = mapped_column(Double)
    unit: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(128))
    n_values: Mapped[int] = mapped_column(Integer)
    sources: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = _now()
    __table_args__ = (Index("ix_daily_summary_user_day", "user_id", "day"),)


class SyncRequest(Base):
    """Work asked of the pipeline (by the API, a webhook or the schedule); a sensor consumes it."""

    __tablename__ = "sync_requests"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[uuid.UUID] = _user_fk()
    provider: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    start_day: Mapped[date] = mapped_column(Date)
    end_day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32), server_default="pending")
    requested_by: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, object] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        Index(
            "ix_sync_requests_pending", "created_at", postgresql_where=text("status = 'pending'")
        ),
        Index("ix_sync_requests_user", "user_id", "created_at"),
    )


class ChatSession(Base):
    """One AI-chat conversation of a user."""

    __tablename__ = "chat_sessions"
    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    user_id: Mapped[uuid.UUID] = _user_fk()
    # AES-GCM ciphertext "kid:base64(blob)" bound to (user, session), like the messages.
    title: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    __table_args__ = (Index("ix_chat_sessions_user", "user_id", "updated_at"),)


class ChatMessage(Base):
    """One message of a chat session: user, assistant, or a tool call and its result."""

    __tablename__ = "chat_messages"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("chat_sessions.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str | None] = mapped_column(Text)
    tool_calls: Mapped[list[object] | None] = mapped_column(JSONB)
    tool_call_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = _now()
    __table_args__ = (Index("ix_chat_messages_session", "session_id", "id"),)


class QuarantinedValue(Base):
    """A normalised value the pipeline refused, or a whole raw record it could not format,
    with the reason; replaced per partition.

    Columns other than the partition and the reason are nullable: a row may be quarantined
    precisely because one of them is missing. A raw record's row has `record_type`, its
    vendor id in `record_id`, its provider in `source`, and the payload path at fault in
    `field_path`; `detail` says what was found.
    """

    __tablename__ = "quarantined_values"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    partition_user: Mapped[uuid.UUID] = _user_fk()
    partition_day: Mapped[date] = mapped_column(Date)
    user_id: Mapped[str | None] = mapped_column(String(64))
    indicator: Mapped[str | None] = mapped_column(String(64))
    time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tz_offset_s: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[float | None] = mapped_column(Double)
    unit: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(128))
    record_id: Mapped[str | None] = mapped_column(String(200))
    offset_source: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64))
    record_type: Mapped[str | None] = mapped_column(String(64))
    field_path: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_quarantined_values_partition", "partition_user", "partition_day"),)


class AppleHealthImport(Base):
    """One uploaded Apple Health export, from upload to imported (see
    mirobody_assets/storage/apple_health_imports.py for its life)."""

    __tablename__ = "apple_health_imports"
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[uuid.UUID] = _user_fk()
    status: Mapped[str] = mapped_column(String(32), server_default="received")
    file_path: Mapped[str | None] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    first_day: Mapped[date | None] = mapped_column(Date)
    last_day: Mapped[date | None] = mapped_column(Date)
    summary: Mapped[dict[str, object] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        Index("ix_apple_health_imports_user", "user_id", "created_at"),
        Index(
            "ix_apple_health_imports_open",
            "status",
            postgresql_where=text("status IN ('received', 'parsed')"),
        ),
    )
