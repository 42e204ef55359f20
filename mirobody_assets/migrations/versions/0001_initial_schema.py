"""Initial schema: users, provider connections, raw records, indicator values, daily summary,
sync requests, chat sessions and messages.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index(
        "uq_users_email_lower", "users", [sa.literal_column("lower(email)")], unique=True
    )
    op.create_table(
        "chat_sessions",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_chat_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_sessions")),
    )
    op.create_index(
        "ix_chat_sessions_user", "chat_sessions", ["user_id", "updated_at"], unique=False
    )
    op.create_table(
        "daily_summary",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("indicator", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("n_values", sa.Integer(), nullable=False),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_daily_summary_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "indicator", "day", name=op.f("pk_daily_summary")),
    )
    op.create_index("ix_daily_summary_user_day", "daily_summary", ["user_id", "day"], unique=False)
    op.create_table(
        "indicator_values",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("indicator", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tz_offset_s", sa.Integer(), server_default="0", nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=True),
        sa.Column(
            "ingested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_indicator_values_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "indicator", "source", "time", name=op.f("pk_indicator_values")
        ),
    )
    op.create_index(
        "ix_indicator_values_user_day", "indicator_values", ["user_id", "day"], unique=False
    )
    op.create_index(
        "ix_indicator_values_user_indicator_time",
        "indicator_values",
        ["user_id", "indicator", "time"],
        unique=False,
    )
    op.create_table(
        "provider_connections",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("vendor_user_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=32), server_default="active", nullable=False),
        sa.Column("scopes", sa.Text(), nullable=True),
        sa.Column("token_key_id", sa.String(length=64), nullable=True),
        sa.Column("access_token_ct", sa.LargeBinary(), nullable=True),
        sa.Column("refresh_token_ct", sa.LargeBinary(), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_provider_connections_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_connections")),
        sa.UniqueConstraint("user_id", "provider", name=op.f("uq_provider_connections_user_id")),
    )
    op.create_index(
        "ix_provider_connections_needs_reauth",
        "provider_connections",
        ["provider"],
        unique=False,
        postgresql_where=sa.text("status = 'needs_reauth'"),
    )
    op.create_index(
        "ix_provider_connections_vendor_user",
        "provider_connections",
        ["provider", "vendor_user_id"],
        unique=False,
    )
    op.create_table(
        "raw_records",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("vendor_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "fetched_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_raw_records_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_records")),
        sa.UniqueConstraint(
            "user_id",
            "provider",
            "record_type",
            "vendor_id",
            "content_hash",
            name="uq_raw_records_content",
        ),
    )
    op.create_index(
        "ix_raw_records_latest",
        "raw_records",
        ["user_id", "provider", "record_type", "vendor_id", "fetched_at"],
        unique=False,
    )
    op.create_index("ix_raw_records_user_day", "raw_records", ["user_id", "day"], unique=False)
    op.create_table(
        "sync_requests",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("start_day", sa.Date(), nullable=False),
        sa.Column("end_day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=32), server_default="pending", nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sync_requests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_requests")),
    )
    op.create_index(
        "ix_sync_requests_pending",
        "sync_requests",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_sync_requests_user", "sync_requests", ["user_id", "created_at"], unique=False
    )
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("tool_calls", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("tool_call_id", sa.String(length=128), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["chat_sessions.id"],
            name=op.f("fk_chat_messages_session_id_chat_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
    )
    op.create_index("ix_chat_messages_session", "chat_messages", ["session_id", "id"], unique=False)

    op.create_table(
        "quarantined_values",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("partition_user", sa.UUID(), nullable=False),
        sa.Column("partition_day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("indicator", sa.String(length=64), nullable=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tz_offset_s", sa.Integer(), nullable=True),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=128), nullable=True),
        sa.Column("record_id", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["partition_user"],
            ["users.id"],
            name=op.f("fk_quarantined_values_partition_user_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_values")),
    )
    op.create_index(
        "ix_quarantined_values_partition",
        "quarantined_values",
        ["partition_user", "partition_day"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_quarantined_values_partition", table_name="quarantined_values")
    op.drop_table("quarantined_values")
    op.drop_index("ix_chat_messages_session", table_name="chat_messages")
    op.drop_table("chat_messages")
    op.drop_index("ix_sync_requests_user", table_name="sync_requests")
    op.drop_index(
        "ix_sync_requests_pending",
        table_name="sync_requests",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_table("sync_requests")
    op.drop_index("ix_raw_records_user_day", table_name="raw_records")
    op.drop_index("ix_raw_records_latest", table_name="raw_records")
    op.drop_table("raw_records")
    op.drop_index("ix_provider_connections_vendor_user", table_name="provider_connections")
    op.drop_index(
        "ix_provider_connections_needs_reauth",
        table_name="provider_connections",
        postgresql_where=sa.text("status = 'needs_reauth'"),
    )
    op.drop_table("provider_connections")
    op.drop_index("ix_indicator_values_user_indicator_time", table_name="indicator_values")
    op.drop_index("ix_indicator_values_user_day", table_name="indicator_values")
    op.drop_table("indicator_values")
    op.drop_index("ix_daily_summary_user_day", table_name="daily_summary")
    op.drop_table("daily_summary")
    op.drop_index("ix_chat_sessions_user", table_name="chat_sessions")
    op.drop_table("chat_sessions")
    op.drop_index("uq_users_email_lower", table_name="users")
    op.drop_table("users")
