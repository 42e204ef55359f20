"""The person's time zone over time (see indicators.zones)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, field_validator

from indicators.zones import check_zone


class TimeZoneEntry(BaseModel):
    effective_from: date | None = Field(
        description="First local day the zone holds; null: it holds for all earlier history."
    )
    zone: str = Field(description="IANA time zone, e.g. 'Asia/Kathmandu'.")
    source: str = Field(
        description="'user' (set by the person) or 'inferred' (learned from "
        "the offsets the person's vendors state)."
    )


class TimeZonePublic(BaseModel):
    """The zone in force today, and the history that dates samples sent without an offset."""

    zone: str = Field(description="IANA zone in force today ('UTC' when nothing is known).")
    source: str = Field(description="'user', 'inferred' or 'default' (nothing known yet).")
    history: list[TimeZoneEntry]


class TimeZoneUpdate(BaseModel):
    """Where the person lives from a local day on (null: always, e.g. a first setting)."""

    zone: str = Field(max_length=64, examples=["Asia/Kathmandu"])
    effective_from: date | None = Field(default=None, examples=["2026-11-01"])

    @field_validator("zone")
    @classmethod
    def _known(cls, value: str) -> str:
        return check_zone(value)


class RederiveRequest(BaseModel):
    id: int
    start_day: date
    end_day: date


class TimeZoneChange(TimeZonePublic):
    """The new history, and the sync requests that re-derive the days it changes."""

    rederive: list[RederiveRequest]
