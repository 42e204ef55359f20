"""What a deletion removed, store by store."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DeletionReport(BaseModel):
    """Rows deleted per Postgres table, warehouse Parquet files removed, vendor revocations."""

    postgres: dict[str, int] = Field(description="Rows deleted per table.")
    warehouse_parquet_files: int = Field(description="Per-user Parquet files removed.")
    warehouse_status: str = Field(description="'deleted', 'nothing to delete' or an error.")
    vendor_revocations: dict[str, str] = Field(
        default_factory=dict, description="Per provider: 'revoked' or why it could not be."
    )
    account_deleted: bool = False
