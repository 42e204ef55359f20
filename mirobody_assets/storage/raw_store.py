"""The raw store: every vendor document as pulled, deduplicated by vendor id and content.

Raw records are never replaced: a re-pull of unchanged content adds nothing (ON CONFLICT on
user, provider, record type, vendor id and content hash); a changed document adds a version.
Readers take the latest version of each vendor document.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection, text

from indicators.frames import RAW_RECORD_COLUMNS
from mirobody_assets.storage.bulk import copy_frame, read_frame

_COLUMNS = list(RAW_RECORD_COLUMNS)


def insert_raw_records(conn: Connection, raw: pl.DataFrame) -> int:
    """Store raw records; returns how many were new (identical re-pulls count zero)."""
    if raw.height == 0:
        return 0
    # Dropped at commit: behind PgBouncer in transaction mode, nothing may outlive the
    # transaction on a server connection that the next client gets.
    conn.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS raw_records_in "
            "(provider text, user_id uuid, record_type text, vendor_id text, version text, "
            "content_hash text, day date, payload jsonb) ON COMMIT DROP"
        )
    )
    copy_frame(conn, "raw_records_in", raw.select(_COLUMNS).unique(maintain_order=True))
    result = conn.execute(
        text(
            f"INSERT INTO raw_records ({', '.join(_COLUMNS)}) "  # noqa: S608
            f"SELECT {', '.join(_COLUMNS)} FROM raw_records_in "
            "ON CONFLICT ON CONSTRAINT uq_raw_records_content DO NOTHING"
        )
    )
    conn.execute(text("TRUNCATE raw_records_in"))
    return int(result.rowcount or 0)


def load_latest_raw(
    conn: Connection,
    users: Sequence[str],
    days: Sequence[date],
    providers: Sequence[str] | None = None,
    margin_days: int = 1,
) -> pl.DataFrame:
    """The latest version of every vendor document of these users whose day is within the
    partition days widened by `margin_days` (a document's values may fall on a neighbouring
    local day; the writers keep only the values of the partitions being written)."""
    wanted = sorted(
        {d + timedelta(days=k) for d in days for k in range(-margin_days, margin_days + 1)}
    )
    params: dict[str, Any] = {
        "users": list(users),
        "days": wanted,
        "providers": list(providers) if providers else None,
    }
    query = (
        "SELECT DISTINCT ON (user_id, provider, record_type, vendor_id) "
        "provider, user_id::text, record_type, vendor_id, version, content_hash, day, "
        "payload::text FROM raw_records "
        "WHERE user_id = ANY(%(users)s::uuid[]) AND day = ANY(%(days)s::date[]) "
        "AND (%(providers)s::text[] IS NULL OR provider = ANY(%(providers)s::text[])) "
        "ORDER BY user_id, provider, record_type, vendor_id, version DESC NULLS LAST, "
        "fetched_at DESC, id DESC"
    )
    return read_frame(conn, query, params, dict(RAW_RECORD_COLUMNS))


def load_anchor_records(conn: Connection, provider: str, requests: pl.DataFrame) -> pl.DataFrame:
    """The latest version of the stored records that `requests` names (a provider's
    `anchor_requests`: user, record type, and a vendor id or a day range), so that a record
    is dated by its anchor even when the anchor is outside the run's days."""
    if requests.height == 0:
        return pl.DataFrame(schema=RAW_RECORD_COLUMNS)
    params: dict[str, Any] = {
        "provider": provider,
        **{
            c: requests.get_column(c).to_list()
            for c in ("user_id", "record_type", "vendor_id", "first_day", "last_day")
        },
    }
    query = (
        "SELECT DISTINCT ON (r.user_id, r.record_type, r.vendor_id) "
        "r.provider, r.user_id::text, r.record_type, r.vendor_id, r.version, r.content_hash, "
        "r.day, r.payload::text FROM raw_records r JOIN unnest(%(user_id)s::uuid[], "
        "%(record_type)s::text[], %(vendor_id)s::text[], %(first_day)s::date[], "
        "%(last_day)s::date[]) AS n(user_id, record_type, vendor_id, first_day, last_day) "
        "ON r.user_id = n.user_id AND r.record_type = n.record_type "
        "AND (n.vendor_id IS NULL OR r.vendor_id = n.vendor_id) "
        "AND (n.first_day IS NULL OR r.day BETWEEN n.first_day AND n.last_day) "
        "WHERE r.provider = %(provider)s "
        "ORDER BY r.user_id, r.record_type, r.vendor_id, r.version DESC NULLS LAST, "
        "r.fetched_at DESC, r.id DESC"
    )
    return read_frame(conn, query, params, dict(RAW_RECORD_COLUMNS))


RAW_INDEX_COLUMNS: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "provider": pl.String(),
    "record_type": pl.String(),
    "vendor_id": pl.String(),
    "version": pl.String(),
    "content_hash": pl.String(),
    "day": pl.Date(),
}


def load_raw_index(conn: Connection, parts: pl.DataFrame) -> pl.DataFrame:
    """Every stored version of the partitions' raw records, without payloads (for analysts)."""
    params = {"users": parts["user_id"].to_list(), "days": parts["day"].to_list()}
    return read_frame(
        conn,
        "SELECT user_id::text, provider, record_type, vendor_id, version, content_hash, day "
        "FROM raw_records WHERE (user_id, day) IN "
        "(SELECT * FROM unnest(%(users)s::uuid[], %(days)s::date[])) "
        "ORDER BY user_id, day, provider, record_type, vendor_id",
        params,
        RAW_INDEX_COLUMNS,
    )
