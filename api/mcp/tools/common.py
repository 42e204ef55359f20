"""Small helpers shared by the tool modules: the person's timezone, the days a tool may ask
for, day windows, notes."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta
from typing import Annotated

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import AfterValidator

from api.services.sync import user_today
from mirobody_assets.days import FIRST_DAY, last_day
from mirobody_assets.storage.models import User

MAX_DAYS = 3 * 366


def day_out_of_range(value: date) -> str | None:
    """Why a day is not one Mirobody holds (FIRST_DAY .. tomorrow), or None when it is."""
    last = last_day()
    if FIRST_DAY <= value <= last:
        return None
    return f"must be a day from {FIRST_DAY.isoformat()} to {last.isoformat()}"


def _check_day(value: date) -> date:
    reason = day_out_of_range(value)
    if reason is not None:
        raise ValueError(reason)  # pydantic's way: a -32602 naming the argument
    return value


def _check_moment(value: datetime) -> datetime:
    # Read as written (the offset aside): from the first day's midnight to the midnight after
    # the last day, which an exclusive end may name.
    first = datetime.combine(FIRST_DAY, time())
    last = datetime.combine(last_day() + timedelta(days=1), time())
    if not first <= value.replace(tzinfo=None) <= last:
        raise ValueError(f"must be a time from {first.isoformat()} to {last.isoformat()}")
    return value


# Tool argument types: a date (time) before the pipeline's first day or after tomorrow is an
# invalid-params error naming the argument, never a crash in date arithmetic further on.
Day = Annotated[date, AfterValidator(_check_day)]
Moment = Annotated[datetime, AfterValidator(_check_moment)]


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


def day_window(
    user: User, start_day: date | None, end_day: date | None, default_days: int
) -> tuple[date, date]:
    """[start, end] inclusive; the end defaults to the person's today. A given day outside
    the days Mirobody holds is a tool error."""
    for name, given in (("start_day", start_day), ("end_day", end_day)):
        reason = day_out_of_range(given) if given is not None else None
        if reason is not None:
            raise ToolError(f"{name} {reason}")
    end = end_day or user_today(user)
    start = start_day or end - timedelta(days=default_days - 1)
    return start, end


def truncation_note(shown: int, what: str, how: str) -> str:
    return f"showing the first {shown} {what} only; {how}"
