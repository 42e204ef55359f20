"""The long fact table moves out of Postgres: indicator_values becomes Parquet per user and
month (mirobody_assets.storage.facts), and the Postgres table is dropped.

Each user's rows are copied into their month files (merged with any file already there,
replacing exactly the days the table holds), then the table goes. Re-runnable: a run that
stopped half-way left the table in place (the transaction rolled back) and rewrites the same
files the next time. The files land under the data folder given to `migrate.upgrade`
(`data_dir`), else the configured DATA_DIR. The downgrade recreates the empty table only: the
rows stay in the Parquet files.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from alembic import context, op

from mirobody_assets.storage.bulk import read_frame
from mirobody_assets.storage.facts import FACT_COLUMNS, fact_store

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USERS_PER_BATCH = 20


def _data_dir() -> Path:
    given = context.config.attributes.get("data_dir")
    if given:
        return Path(given)
    from mirobody_assets.settings import get_settings

    return get_settings().data_dir


def upgrade() -> None:
    conn = op.get_bind()
    if not sa.inspect(conn).has_table("indicator_values"):
        return
    present = {c["name"] for c in sa.inspect(conn).get_columns("indicator_values")}
    cols = [c for c in FACT_COLUMNS if c in present]
    select = ", ".join(f"{c}::text" if c == "user_id" else c for c in cols)
    users = [
        r[0]
        for r in conn.execute(
            sa.text("SELECT DISTINCT user_id::text FROM indicator_values ORDER BY 1")
        )
    ]
    store = fact_store(_data_dir()) if users else None
    for start in range(0, len(users), USERS_PER_BATCH):
        batch = users[start : start + USERS_PER_BATCH]
        rows = read_frame(
            conn,
            f"SELECT {select} FROM indicator_values "  # noqa: S608 - fixed columns
            "WHERE user_id = ANY(%(users)s::uuid[]) ORDER BY user_id, day",
            {"users": batch},
            {c: FACT_COLUMNS[c] for c in cols},
        )
        rows = rows.with_columns(
            pl.lit(None, FACT_COLUMNS[c]).alias(c) for c in FACT_COLUMNS if c not in rows.columns
        )
        assert store is not None
        store.replace_partitions(rows, rows.select("user_id", "day").unique())
    op.drop_table("indicator_values")


def downgrade() -> None:
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
        sa.Column("offset_source", sa.String(length=16), server_default="vendor", nullable=False),
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
    op.create_index("ix_indicator_values_user_day", "indicator_values", ["user_id", "day"])
    op.create_index(
        "ix_indicator_values_user_indicator_time",
        "indicator_values",
        ["user_id", "indicator", "time"],
        postgresql_include=["source", "value", "day", "end_time", "unit"],
    )
