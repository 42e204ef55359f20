"""User time zones with history, and where each indicator value's offset came from.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_time_zones",
        sa.Column("user_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "effective_from"),
    )
    # A zone someone chose at sign-up (anything but the default) holds for all their history.
    op.execute(
        "INSERT INTO user_time_zones (user_id, effective_from, zone, source) "
        "SELECT id, DATE '2000-01-01', timezone, 'user' FROM users WHERE timezone <> 'UTC'"
    )
    op.add_column(
        "indicator_values",
        sa.Column("offset_source", sa.String(length=16), server_default="vendor", nullable=False),
    )
    op.add_column(
        "quarantined_values", sa.Column("offset_source", sa.String(length=16), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("quarantined_values", "offset_source")
    op.drop_column("indicator_values", "offset_source")
    op.drop_table("user_time_zones")
