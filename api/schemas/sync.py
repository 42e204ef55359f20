"""Sync-request models: ask the pipeline to pull recent days (sync) or a range (backfill)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SyncRequestCreate(BaseModel):
    """A sync pulls the last days (default: yesterday and today in the caller's zone); a
    backfill needs `start_day` and `end_day`. Without `provider`, every linked provider."""

    kind: Literal["sync", "backfill"] = "sync"
    provider: str | None = Field(default=None, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    start_day: date | None = None
    end_day: date | None = None


class SyncRequestPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    provider: str | None
    start_day: date
    end_day: date
    status: str
    requested_by: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class SyncRequestsPublic(BaseModel):
    data: list[SyncRequestPublic]
    count: int
