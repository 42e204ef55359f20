"""Quarantine whole raw records: their record type, the payload field at fault and a detail.

A raw record that cannot be formatted is quarantined as one row (its vendor id in
`record_id`, its provider in `source`) instead of failing its provider's batch.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "quarantined_values", sa.Column("record_type", sa.String(length=64), nullable=True)
    )
    op.add_column(
        "quarantined_values", sa.Column("field_path", sa.String(length=200), nullable=True)
    )
    op.add_column("quarantined_values", sa.Column("detail", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("quarantined_values", "detail")
    op.drop_column("quarantined_values", "field_path")
    op.drop_column("quarantined_values", "record_type")
