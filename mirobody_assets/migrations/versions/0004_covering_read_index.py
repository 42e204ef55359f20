"""The series read index covers the columns the API returns (index-only scans).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_indicator_values_user_indicator_time"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="indicator_values")
    op.create_index(
        INDEX,
        "indicator_values",
        ["user_id", "indicator", "time"],
        postgresql_include=["source", "value", "day", "end_time", "unit"],
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="indicator_values")
    op.create_index(INDEX, "indicator_values", ["user_id", "indicator", "time"])
