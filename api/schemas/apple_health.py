"""Apple Health imports as the API shows them."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field


class AppleHealthImportPublic(BaseModel):
    """One uploaded export and where its import stands."""

    id: int
    status: str = Field(description="received, parsed, imported or failed")
    size_bytes: int
    sha256: str = Field(
        description="Digest of the uploaded file: the same file sent again returns this import"
    )
    first_day: date | None = Field(description="First local day with records (once parsed)")
    last_day: date | None = Field(description="Last local day with records (once parsed)")
    summary: dict[str, Any] | None = Field(
        description="Records per HealthKit type, ignored and unlisted types, malformed "
        "records, documents stored and new"
    )
    error: str | None


class AppleHealthImportsPublic(BaseModel):
    data: list[AppleHealthImportPublic]
    count: int
