"""The people's time-zone histories in Postgres (`user_time_zones`): read them for the pipeline,
set one for a person, learn them from the offsets vendors state, and ask for the partitions a
change re-derives. The time arithmetic itself is in indicators.zones."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

import polars as pl
from sqlalchemy import Connection, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from indicators.zones import (
    ZONE_HISTORY_COLUMNS,
    OffsetSource,
    ZoneHistory,
    changed_entries,
    check_zone,
    daily_offsets,
)
from mirobody_assets.days import FIRST_DAY
from mirobody_assets.storage.models import User, UserTimeZone
from mirobody_assets.storage.sync_requests import SyncKind, record_sync_request
from providers.registry import zone_dependent_record_types

log = logging.getLogger(__name__)

# Stands for "always": an entry from this day holds for the person's whole history.
ALWAYS = date(2000, 1, 1)


def load_zones(conn: Connection, users: Iterable[str]) -> pl.DataFrame:
    """The zone histories of `users` (ZONE_HISTORY_COLUMNS), oldest entry first."""
    ids = sorted({str(u) for u in users})
    rows = (
        conn.execute(
            text(
                "SELECT user_id::text, effective_from, zone, source FROM user_time_zones "
                "WHERE user_id::text = ANY(CAST(:ids AS text[])) ORDER BY user_id, effective_from"
            ),
            {"ids": ids},
        ).all()
        if ids
        else []
    )
    return pl.DataFrame([tuple(r) for r in rows], schema=ZONE_HISTORY_COLUMNS, orient="row")


def zone_history(conn: Connection, user_id: str) -> ZoneHistory:
    return ZoneHistory.of(load_zones(conn, [user_id]), user_id)


def _upsert(conn: Connection, user_id: str, day: date, zone: str, source: str) -> None:
    statement = insert(UserTimeZone).values(
        user_id=uuid.UUID(user_id), effective_from=day, zone=zone, source=source
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "effective_from"],
            set_={
                "zone": statement.excluded.zone,
                "source": statement.excluded.source,
                "created_at": datetime.now(UTC),
            },
        )
    )


def _sync_current(conn: Connection, user_id: str) -> None:
    """`users.timezone` follows the entry in force today (what 'today' means for the API)."""
    history = zone_history(conn, user_id)
    zone, source = history.current(datetime.now(UTC))
    if source != OffsetSource.DEFAULT:
        conn.execute(
            text("UPDATE users SET timezone = :z WHERE id = :u"),
            {"z": zone, "u": uuid.UUID(user_id)},
        )


def set_zone(conn: Connection, user_id: str, zone: str, effective_from: date | None) -> ZoneHistory:
    """The person says where they live from `effective_from` on (None: always). A setting
    from a day replaces the entries that started on or after it."""
    check_zone(zone)
    day = effective_from or ALWAYS
    conn.execute(
        text("DELETE FROM user_time_zones WHERE user_id = :u AND effective_from >= :d"),
        {"u": uuid.UUID(user_id), "d": day},
    )
    _upsert(conn, user_id, day, zone, str(OffsetSource.USER))
    _sync_current(conn, user_id)
    return zone_history(conn, user_id)


def learn_zones(conn: Connection, rows: pl.DataFrame, zones: pl.DataFrame) -> pl.DataFrame:
    """Learn zones from the offsets vendors stated in `rows` (normalised values, before the
    rows without offsets are resolved): a person without a zone of their own gets an inferred
    entry where the known history does not explain what the vendors say. Stored days outside
    the batch that the new entries re-date are asked to be re-derived. Returns the updated
    histories of the rows' users."""
    observed = daily_offsets(rows)
    learned = False
    for (user,), per_user in observed.group_by(["user_id"]):
        user_id = str(user)
        before = ZoneHistory.of(zones, user_id)
        days = [(d, int(off)) for d, off in per_user.select("day", "tz_offset_s").iter_rows()]
        current = conn.execute(select(User.timezone).where(User.id == uuid.UUID(user_id))).scalar()
        entries = changed_entries(before, days, prefer=current)
        for i, (day, zone) in enumerate(entries):
            start = ALWAYS if i == 0 and not before.entries else day
            log.info(
                "time zone of user %s inferred from vendor offsets: %s from %s",
                user_id,
                zone,
                start,
            )
            _upsert(conn, user_id, start, zone, str(OffsetSource.INFERRED))
        if entries:
            learned = True
            _sync_current(conn, user_id)
            # the batch's days and the day each side its pull window covers: those are
            # normalised with the new zone by this very run
            batch = (
                min(d for d, _ in days) - timedelta(days=1),
                max(d for d, _ in days) + timedelta(days=1),
            )
            _rederive_outside(conn, user_id, before, zone_history(conn, user_id), batch)
    users = rows.get_column("user_id").unique().to_list() if rows.height else []
    return load_zones(conn, users) if learned else zones


def _rederive_outside(
    conn: Connection,
    user_id: str,
    before: ZoneHistory,
    after: ZoneHistory,
    batch: tuple[date, date],
) -> None:
    """Re-derive the stored zone-dated days whose zone changed, outside the batch's days."""
    last = datetime.now(UTC).date() + timedelta(days=1)
    changed = {FIRST_DAY + timedelta(days=i) for i in range((last - FIRST_DAY).days + 1)}
    changed = {
        d
        for d in changed
        if before.entry_at(d) != after.entry_at(d) and not batch[0] <= d <= batch[1]
    }
    if not changed:
        return
    days = [
        d
        for d in affected_days(
            conn, user_id, min(changed), max(changed), zone_dependent_record_types(), changed
        )
        if d in changed and not batch[0] <= d <= batch[1]
    ]
    if days:
        with Session(bind=conn) as session:
            ids = request_rederive(session, user_id, days, "pipeline")
            session.flush()
        log.info(
            "user %s: %d stored days re-dated by the learned zone: requests %s",
            user_id,
            len(days),
            ids,
        )


def affected_days(
    conn: Connection,
    user_id: str,
    start: date,
    end: date,
    dependent: Mapping[str, Sequence[str]],
    only: set[date] | None = None,
) -> list[date]:
    """The days of the person's stored raw records whose values may take their offset from
    the zone (a day's neighbours too: a shifted sample may cross local midnight); `only`:
    records of these days only."""
    pairs = [f"{slug}|{t}" for slug, types in dependent.items() for t in types]
    if not pairs:
        return []
    found = (
        conn.execute(
            text(
                "SELECT DISTINCT day FROM raw_records WHERE user_id = :u AND day BETWEEN :s AND :e "
                "AND provider || '|' || record_type = ANY(CAST(:pairs AS text[])) ORDER BY day"
            ),
            {
                "u": uuid.UUID(user_id),
                "s": start - timedelta(days=1),
                "e": end + timedelta(days=1),
                "pairs": pairs,
            },
        )
        .scalars()
        .all()
    )
    days = {d + timedelta(days=k) for d in found if only is None or d in only for k in (-1, 0, 1)}
    return sorted(d for d in days if d >= FIRST_DAY)


def runs_of(days: Sequence[date]) -> list[tuple[date, date]]:
    """Contiguous (first, last) ranges of sorted days."""
    ranges: list[tuple[date, date]] = []
    for day in days:
        if ranges and day == ranges[-1][1] + timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def request_rederive(
    session: Session, user_id: str, days: Sequence[date], requested_by: str
) -> list[int]:
    """Sync requests re-deriving exactly these days (one per contiguous range); their ids."""
    ids = []
    for first, last in runs_of(sorted(set(days))):
        row = record_sync_request(
            session,
            uuid.UUID(user_id),
            None,
            SyncKind.SYNC,
            first,
            last,
            requested_by,
            {"reason": "time zone changed"},
        )
        ids.append(int(row.id))
    return ids
