"""Reading and changing the person's time zone; a change re-derives exactly the days whose
values take their offset from it (indicators.zones, mirobody_assets.storage.timezones)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from api.schemas.timezones import RederiveRequest, TimeZoneChange, TimeZoneEntry, TimeZonePublic
from api.services.sync import user_today
from indicators.zones import ZoneHistory
from mirobody_assets.days import FIRST_DAY
from mirobody_assets.storage import timezones
from mirobody_assets.storage.models import SyncRequest, User
from providers.registry import zone_dependent_record_types

log = logging.getLogger(__name__)


def _public(history: ZoneHistory) -> TimeZonePublic:
    zone, source = history.current(datetime.now(UTC))
    return TimeZonePublic(
        zone=zone,
        source=source,
        history=[
            TimeZoneEntry(effective_from=None if day <= timezones.ALWAYS else day, zone=z, source=s)
            for day, z, s in history.entries
        ],
    )


def read_time_zone(session: Session, user: User) -> TimeZonePublic:
    return _public(timezones.zone_history(session.connection(), str(user.id)))


def _changed_days(before: ZoneHistory, after: ZoneHistory, start: date, end: date) -> set[date]:
    days = (start + timedelta(days=i) for i in range((end - start).days + 1))
    return {d for d in days if before.entry_at(d) != after.entry_at(d)}


def change_time_zone(
    session: Session, user: User, zone: str, effective_from: date | None
) -> TimeZoneChange:
    """Set the zone from `effective_from` (None: always) and ask the pipeline to re-derive the
    stored days whose zone-dated values it changes; commits."""
    uid = str(user.id)
    conn = session.connection()
    before = timezones.zone_history(conn, uid)
    after = timezones.set_zone(conn, uid, zone, effective_from)
    last = user_today(user) + timedelta(days=1)
    changed = _changed_days(before, after, max(effective_from or FIRST_DAY, FIRST_DAY), last)
    days = (
        [
            d
            for d in timezones.affected_days(
                conn, uid, min(changed), max(changed), zone_dependent_record_types()
            )
            if d in changed or d - timedelta(days=1) in changed or d + timedelta(days=1) in changed
        ]
        if changed
        else []
    )
    ids = timezones.request_rederive(session, uid, days, "api")
    requests = [session.get(SyncRequest, i) for i in ids]
    session.commit()
    session.refresh(user)
    log.info("time zone changed", extra={"user_id": uid, "zone": zone, "days": len(days)})
    public = _public(after)
    return TimeZoneChange(
        **public.model_dump(),
        rederive=[
            RederiveRequest(id=r.id, start_day=r.start_day, end_day=r.end_day)
            for r in requests
            if r is not None
        ],
    )
