"""The health profile: devices, the latest value of every indicator, coverage by day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from api.schemas.health import DayCoverage, DeviceSummary, HealthProfile, LatestValue
from indicators import CATALOGUE
from mirobody_assets.storage.models import User

# One index probe per catalogue indicator (user_id, indicator, time): fast for any data size.
_LATEST = """SELECT l.indicator, l.value, l.unit, l.time, l.source
             FROM unnest(CAST(:ids AS text[])) AS i(id)
             CROSS JOIN LATERAL (
                SELECT indicator, value, unit, time, source FROM indicator_values
                WHERE user_id = :user AND indicator = i.id ORDER BY time DESC LIMIT 1) AS l
             ORDER BY l.indicator"""


def read_profile(session: Session, user: User, days: int) -> HealthProfile:
    params = {"user": user.id}
    devices = [
        DeviceSummary(provider=r.provider, status=r.status, last_success_at=r.last_success_at,
                      needs_reauthorization=r.status == "needs_reauth")
        for r in session.execute(text(
            "SELECT provider, status, last_success_at FROM provider_connections "
            "WHERE user_id = :user ORDER BY provider"), params)
    ]
    latest = [LatestValue.model_validate(dict(r)) for r in session.execute(
        text(_LATEST), params | {"ids": sorted(CATALOGUE)}).mappings()]
    first, last = session.execute(text(
        "SELECT min(day), max(day) FROM daily_summary WHERE user_id = :user"), params).one()
    since = (last or datetime.now(UTC).date()) - timedelta(days=days - 1)
    coverage = [DayCoverage(day=d, indicators=n) for d, n in session.execute(text(
        "SELECT day, count(*) FROM daily_summary WHERE user_id = :user AND day >= :since "
        "GROUP BY day ORDER BY day"), params | {"since": since})]
    return HealthProfile(user_id=str(user.id), timezone=user.timezone, devices=devices,
                         latest=latest, first_day=first, last_day=last, coverage=coverage)


