"""Where the person is: their IANA time zone over time, and the offsets it gives to samples that
carry none of their own.

A vendor that states an offset (Garmin, WHOOP, Withings, Polar sleeps and exercises, Oura's
sessions) is always right about its own rows. Samples sent as UTC instants only (Oura heart rate,
Polar's physical information) or as wall-clock times without an offset (Polar's continuous heart
rate on a day without a sleep or exercise nearby) take the offset of the person's zone at that
instant, DST included. A zone history is a frame of ZONE_HISTORY_COLUMNS: an entry holds from its
`effective_from` local day until the next entry; the first entry also covers what came before it.

Every indicator row says where its offset came from (`offset_source`, one of OFFSET_SOURCES).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from functools import cache

import polars as pl


class OffsetSource(StrEnum):
    """Where a row's `tz_offset_s` came from."""

    VENDOR = "vendor"  # the vendor stated it for this record
    DAY = "day"  # the vendor states a local day only (rows at its 00:00, offset 0)
    USER = "user"  # the person's time zone, as they set it
    INFERRED = "inferred"  # the person's time zone, as learned from the vendors' offsets
    DEFAULT = "default"  # nothing known: UTC
    # Before resolution only: the vendor gave a UTC instant, or a wall-clock time, and no offset.
    UNKNOWN_UTC = "unknown_utc"
    UNKNOWN_WALL = "unknown_wall"


OFFSET_SOURCES = (
    OffsetSource.VENDOR,
    OffsetSource.DAY,
    OffsetSource.USER,
    OffsetSource.INFERRED,
    OffsetSource.DEFAULT,
)
UNRESOLVED = (OffsetSource.UNKNOWN_UTC, OffsetSource.UNKNOWN_WALL)
ZONE_SOURCES = (OffsetSource.USER, OffsetSource.INFERRED)

ZONE_HISTORY_COLUMNS: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "effective_from": pl.Date(),
    "zone": pl.String(),
    "source": pl.String(),
}

_UTC_US = pl.Datetime("us", "UTC")


@cache
def known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_zone(name: str) -> str:
    """`name` if it is an IANA zone this machine knows, else ValueError."""
    if name not in known_zones():
        raise ValueError(f"unknown IANA time zone: {name!r}")
    return name


@dataclass(frozen=True)
class ZoneHistory:
    """One person's zones over time: (effective_from, zone, source), oldest first."""

    entries: tuple[tuple[date, str, str], ...] = ()

    def entry_at(self, day: date) -> tuple[str, str]:
        """(zone, source) on local `day`; UTC/default when nothing is known."""
        if not self.entries:
            return "UTC", OffsetSource.DEFAULT
        found = self.entries[0]
        for entry in self.entries:
            if entry[0] <= day:
                found = entry
        return found[1], found[2]

    def current(self, now: datetime) -> tuple[str, str]:
        """(zone, source) in force at `now`: the latest entry that has begun in its own zone."""
        for day, zone, source in reversed(self.entries):
            if day <= now.astimezone(zoneinfo.ZoneInfo(zone)).date():
                return zone, source
        return self.entry_at(now.astimezone(UTC).date())

    def local_day(self, instant: datetime) -> date:
        """The person's calendar day of a UTC instant (the zone of its UTC date)."""
        zone, _ = self.entry_at(instant.astimezone(UTC).date())
        return instant.astimezone(zoneinfo.ZoneInfo(zone)).date()

    def midnight(self, day: date) -> datetime:
        """The UTC instant at which the person's local `day` starts."""
        zone, _ = self.entry_at(day)
        return datetime.combine(day, time.min, zoneinfo.ZoneInfo(zone)).astimezone(UTC)

    @classmethod
    def of(cls, frame: pl.DataFrame, user_id: str) -> ZoneHistory:
        rows = frame.filter(pl.col("user_id") == user_id).sort("effective_from")
        return cls(
            tuple((r["effective_from"], r["zone"], r["source"]) for r in rows.iter_rows(named=True))
        )


def _by_zone(zone_col: str, zones: Iterable[str], per_zone: Callable[[str], pl.Expr]) -> pl.Expr:
    """One expression over rows of several zones: `per_zone(zone)` where `zone_col` is it."""
    branches = [pl.when(pl.col(zone_col) == z).then(per_zone(z)) for z in sorted(set(zones))]
    return pl.coalesce(*branches) if branches else pl.lit(None)


def offset_at_instant_expr(instant: pl.Expr | str, zone_col: str, zones: Iterable[str]) -> pl.Expr:
    """Seconds east of UTC of each row's zone (an IANA name in `zone_col`) at its UTC instant
    (DST-correct); null for rows whose zone is null."""
    at = pl.col(instant) if isinstance(instant, str) else instant

    def offset(zone: str) -> pl.Expr:
        local = at.dt.convert_time_zone(zone).dt.replace_time_zone(None)
        return (local - at.dt.replace_time_zone(None)).dt.total_seconds()

    return _by_zone(zone_col, zones, offset).cast(pl.Int32)


def wall_to_utc_expr(wall: str, zone_col: str, zones: Iterable[str]) -> pl.Expr:
    """The UTC instant of each row's wall-clock time (a UTC-labelled or naive Datetime read as
    local) in its zone. A time repeated by a DST fall-back is its first occurrence; a time
    skipped by a spring-forward is read with the offset before the gap."""
    naive = pl.col(wall).dt.replace_time_zone(None)

    def utc(zone: str) -> pl.Expr:
        direct = naive.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        hour_before = (naive - pl.duration(hours=1)).dt.replace_time_zone(
            zone, ambiguous="earliest", non_existent="null"
        ) + pl.duration(hours=1)
        return pl.coalesce(direct, hour_before).dt.convert_time_zone("UTC")

    return _by_zone(zone_col, zones, utc).cast(_UTC_US)


def resolve_offsets(rows: pl.DataFrame, zones: pl.DataFrame | None = None) -> pl.DataFrame:
    """Give rows whose vendor stated no offset (offset_source unknown_utc / unknown_wall) the
    offset of the person's zone at their time; wall-clock rows get their UTC instant too. Each
    such row's offset_source becomes the zone entry's source (user, inferred) or `default`."""
    unresolved = pl.col("offset_source").is_in([str(s) for s in UNRESOLVED])
    todo = rows.filter(unresolved)
    if todo.height == 0:
        return rows
    history = zones if zones is not None else pl.DataFrame(schema=ZONE_HISTORY_COLUMNS)
    history = history.select(list(ZONE_HISTORY_COLUMNS)).cast(ZONE_HISTORY_COLUMNS)  # type: ignore[arg-type]
    wall = pl.col("offset_source") == str(OffsetSource.UNKNOWN_WALL)
    keyed = todo.with_row_index("_i").with_columns(pl.col("time").dt.date().alias("_d"))
    # the entry in force on the row's day; before the first entry, the first entry
    entries = history.sort("effective_from").select(
        "user_id",
        pl.col("effective_from").alias("_d"),
        pl.col("zone").alias("_hz"),
        pl.col("source").alias("_hs"),
    )
    later = keyed.sort("_d").join_asof(
        entries, on="_d", by="user_id", strategy="backward", check_sortedness=False
    )
    first = (
        entries.group_by("user_id", maintain_order=True)
        .first()
        .select("user_id", pl.col("_hz").alias("_z0"), pl.col("_hs").alias("_s0"))
    )
    keyed = (
        later.join(first, on="user_id", how="left")
        .with_columns(
            pl.coalesce("_hz", "_z0", pl.lit("UTC")).alias("_zone"),
            pl.coalesce("_hs", "_s0", pl.lit(str(OffsetSource.DEFAULT))).alias("_source"),
        )
        .sort("_i")
    )
    names = keyed.get_column("_zone").unique().to_list()
    shifted = keyed.with_columns(
        pl.when(wall)
        .then(wall_to_utc_expr("time", "_zone", names))
        .otherwise(pl.col("time"))
        .alias("_utc"),
        pl.when(wall & pl.col("end_time").is_not_null())
        .then(wall_to_utc_expr("end_time", "_zone", names))
        .otherwise(pl.col("end_time"))
        .alias("_end"),
    ).with_columns(offset_at_instant_expr("_utc", "_zone", names).alias("_off"))
    done = shifted.with_columns(
        pl.col("_utc").alias("time"),
        pl.col("_end").alias("end_time"),
        pl.col("_off").alias("tz_offset_s"),
        pl.col("_source").alias("offset_source"),
    ).select(rows.columns)
    return pl.concat([rows.filter(~unresolved), done], how="vertical")


# --- learning a zone from the offsets vendors state ----------------------------------------

# Preferred when several zones give the same offsets (they are then interchangeable for the
# days observed): common zones first, then any canonical Area/City in name order.
_PREFERRED = (
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Helsinki",
    "Europe/Moscow",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Darwin",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Pacific/Noumea",
    "Pacific/Auckland",
    "Pacific/Tongatapu",
    "Pacific/Kiritimati",
    "Atlantic/Azores",
    "America/Noronha",
    "America/Sao_Paulo",
    "America/Halifax",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Marquesas",
    "Pacific/Honolulu",
    "Pacific/Pago_Pago",
)


@cache
def _candidates() -> tuple[str, ...]:
    canonical = sorted(
        z
        for z in known_zones()
        if "/" in z
        and not z.startswith(
            (
                "Etc/",
                "SystemV/",
                "US/",
                "posix/",
                "right/",
                "Brazil/",
                "Canada/",
                "Chile/",
                "Mexico/",
            )
        )
    )
    return tuple(z for z in _PREFERRED if z in known_zones()) + tuple(
        z for z in canonical if z not in _PREFERRED
    )


@cache
def _offset_on(zone: str, day: date) -> int:
    """The zone's offset at local noon of `day`, in seconds."""
    moment = datetime.combine(day, time(12), tzinfo=zoneinfo.ZoneInfo(zone))
    delta = moment.utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def zone_matching(observed: Sequence[tuple[date, int]], prefer: str | None = None) -> str | None:
    """A zone whose offset on each observed day is the one observed (None: no zone does)."""
    order = ((prefer,) if prefer else ()) + _candidates()
    for zone in order:
        if zone in known_zones() and all(_offset_on(zone, d) == off for d, off in observed):
            return zone
    return None


def infer_zones(
    observed: Sequence[tuple[date, int]], prefer: str | None = None
) -> list[tuple[date, str]]:
    """(effective_from, zone) segments explaining daily offsets (one per local day, in any
    order): a segment grows while one zone explains all its days (DST changes included) and a
    new one starts where none does (the person travelled)."""
    days = sorted(dict(observed).items())
    segments: list[tuple[date, str]] = []
    start = 0
    zone: str | None = None
    for end in range(len(days)):
        grown = zone_matching(days[start : end + 1], prefer if zone is None else zone)
        if grown is None:
            if zone is not None:
                segments.append((days[start][0], zone))
            start = end
            grown = zone_matching(days[end : end + 1], prefer)
        zone = grown
    if zone is not None and days:
        segments.append((days[start][0], zone))
    return segments


def daily_offsets(rows: pl.DataFrame) -> pl.DataFrame:
    """(user_id, day, tz_offset_s) the vendors stated, the most frequent per user and local day:
    what a zone is learned from."""
    stated = rows.filter(pl.col("offset_source") == str(OffsetSource.VENDOR))
    shifted = pl.col("time").dt.replace_time_zone(None) + pl.duration(seconds=pl.col("tz_offset_s"))
    return (
        stated.with_columns(shifted.dt.date().alias("day"))
        .group_by("user_id", "day", "tz_offset_s")
        .agg(pl.len().alias("_n"))
        .sort("_n", "tz_offset_s", descending=[True, False])
        .group_by("user_id", "day", maintain_order=True)
        .first()
        .select("user_id", "day", "tz_offset_s")
        .sort("user_id", "day")
    )


def changed_entries(
    history: ZoneHistory, observed: Sequence[tuple[date, int]], prefer: str | None = None
) -> list[tuple[date, str]]:
    """New inferred entries for one person: none while the history explains every observed
    day, or when the person set their zone themselves (their setting wins); else the segments
    of the observed days from the first unexplained one on."""
    if any(source == OffsetSource.USER for _, _, source in history.entries):
        return []
    unexplained = sorted(
        d
        for d, off in observed
        if not history.entries or _offset_on(history.entry_at(d)[0], d) != off
    )
    if not unexplained:
        return []
    first = unexplained[0]
    current = history.entry_at(first)[0] if history.entries else prefer
    segments = infer_zones([(d, off) for d, off in observed if d >= first], current)
    return [
        (day, zone)
        for day, zone in segments
        if not history.entries
        or history.entry_at(day)[0] != zone
        or history.entry_at(day)[1] == OffsetSource.DEFAULT
    ]
