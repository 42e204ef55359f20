"""Small helpers shared by the tool modules: the person's timezone, day windows, notes."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

from api.services.sync import user_today
from mirobody_assets.storage.models import User

MAX_DAYS = 3 * 366


def user_zone(user: User) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def aware(value: datetime, user: User) -> datetime:
    """A datetime without an offset is read in the person's own timezone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=user_zone(user))


def day_start(day: date, user: User) -> datetime:
    return datetime.combine(day, time(), tzinfo=user_zone(user))


def day_window(user: User, start_day: date | None, end_day: date | None,
               default_days: int) -> tuple[date, date]:
    """[start, end] inclusive; the end defaults to the person's today."""
    end = end_day or user_today(user)
    start = start_day or end - timedelta(days=default_days - 1)
    return start, end


def truncation_note(shown: int, what: str, how: str) -> str:
    return f"showing the first {shown} {what} only; {how}"
