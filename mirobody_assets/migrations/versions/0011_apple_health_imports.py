"""Apple Health exports uploaded through the API, waiting for or done with their import.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "apple_health_imports",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=32), server_default="received", nullable=False),
        sa.Column("file_path", sa.Text(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
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
            ondelete="CASCADE",
            name=op.f("fk_apple_health_imports_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apple_health_imports")),
    )
    op.create_index(
        "ix_apple_health_imports_user", "apple_health_imports", ["user_id", "created_at"]
    )
    op.create_index(
        "ix_apple_health_imports_open",
        "apple_health_imports",
        ["status"],
        postgresql_where=sa.text("status IN ('received', 'parsed')"),
    )


def downgrade() -> None:
    op.drop_index("ix_apple_health_imports_open", table_name="apple_health_imports")
    op.drop_index("ix_apple_health_imports_user", table_name="apple_health_imports")
    op.drop_table("apple_health_imports")
