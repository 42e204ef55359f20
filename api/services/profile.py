"""The health profile: devices, the latest value of every indicator, coverage by day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.schemas.health import DayCoverage, DeviceSummary, HealthProfile, LatestValue
from indicators import CATALOGUE
from mirobody_assets.storage.facts import facts_of
from mirobody_assets.storage.models import User


def latest_values(session: Session, user: User) -> list[LatestValue]:
    """The latest value of every catalogue indicator the person has, from their fact files
    (only the columns needed are read)."""
    latest = (
        facts_of(session)
        .scan_all(str(user.id))
        .select("indicator", "value", "unit", "time", "source")
        .filter(pl.col("indicator").is_in(sorted(CATALOGUE)))
        .sort("time", "source")
        .group_by("indicator")
        .last()
        .sort("indicator")
        .collect()
    )
    return [LatestValue.model_validate(row) for row in latest.iter_rows(named=True)]


def read_profile(session: Session, user: User, days: int) -> HealthProfile:
    params = {"user": user.id}
    devices = [
        DeviceSummary(
            provider=r.provider,
            status=r.status,
            last_success_at=r.last_success_at,
            needs_reauthorization=r.status == "needs_reauth",
        )
        for r in session.execute(
            text(
                "SELECT provider, status, last_success_at FROM provider_connections "
                "WHERE user_id = :user ORDER BY provider"
            ),
            params,
        )
    ]
    latest = latest_values(session, user)
    first, last = session.execute(
        text("SELECT min(day), max(day) FROM daily_summary WHERE user_id = :user"), params
    ).one()
    since = (last or datetime.now(UTC).date()) - timedelta(days=days - 1)
    coverage = [
        DayCoverage(day=d, indicators=n)
        for d, n in session.execute(
            text(
                "SELECT day, count(*) FROM daily_summary WHERE user_id = :user AND day >= :since "
                "GROUP BY day ORDER BY day"
            ),
            params | {"since": since},
        )
    ]
    return HealthProfile(
        user_id=str(user.id),
        timezone=user.timezone,
        devices=devices,
        latest=latest,
        first_day=first,
        last_day=last,
        coverage=coverage,
    )
