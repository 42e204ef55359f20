"""Oura heart rate raw records: one document per UTC day instead of one per 5-minute sample.

Stores written before the Oura provider grouped its heart-rate rows hold one raw record per
sample (vendor id = the sample's timestamp). Left alone, they would stay "latest" next to the
new day documents and every sample would be normalised twice (quarantined as duplicate
keys). This folds each user's samples of a UTC day into the document the provider now
writes (`{"day", "data": [rows as sent, by time]}`, vendor id `heartrate:<day>`, the same
canonical JSON and content hash, so the next pull of that day adds nothing), then deletes
the per-sample rows (a superseded version of a sample, which no reader saw, goes with
them). Downgrade splits the day documents back into samples.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SAMPLES = "provider = 'oura' AND record_type = 'heartrate' AND vendor_id NOT LIKE 'heartrate:%'"
_BATCH = 500


def _canonical(doc: Any) -> str:
    # indicators.frames.canonical_json, frozen here: a migration must not change with the code
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def upgrade() -> None:
    conn = op.get_bind()
    days = conn.execute(
        sa.text(
            "SELECT user_id, (s.payload->>'timestamp')::timestamptz AT TIME ZONE 'UTC' AS at, "
            "s.payload FROM (SELECT DISTINCT ON (user_id, vendor_id) user_id, payload "
            "FROM raw_records WHERE provider = 'oura' AND record_type = 'heartrate' "
            "AND vendor_id NOT LIKE 'heartrate:%' "
            "ORDER BY user_id, vendor_id, fetched_at DESC, id DESC) s ORDER BY user_id, at"
        )
    )
    grouped: dict[tuple[Any, str], list[Any]] = {}
    for user_id, at, payload in days:
        grouped.setdefault((user_id, at.date().isoformat()), []).append(payload)
    rows = []
    for (user_id, day), samples in grouped.items():
        text = _canonical({"day": day, "data": samples})
        rows.append(
            {
                "u": user_id,
                "v": f"heartrate:{day}",
                "d": day,
                "p": text,
                "h": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            }
        )
    insert = sa.text(
        "INSERT INTO raw_records (user_id, provider, record_type, vendor_id, version, "
        "content_hash, day, payload) VALUES (:u, 'oura', 'heartrate', :v, NULL, :h, "
        "CAST(:d AS date), CAST(:p AS jsonb)) "
        "ON CONFLICT ON CONSTRAINT uq_raw_records_content DO NOTHING"
    )
    for start in range(0, len(rows), _BATCH):
        conn.execute(insert, rows[start : start + _BATCH])
    conn.execute(sa.text(f"DELETE FROM raw_records WHERE {_SAMPLES}"))  # noqa: S608


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "INSERT INTO raw_records (user_id, provider, record_type, vendor_id, version, "
            "content_hash, day, payload) "
            "SELECT r.user_id, 'oura', 'heartrate', s.sample->>'timestamp', NULL, "
            "encode(sha256(convert_to(s.sample::text, 'UTF8')), 'hex'), "
            "((s.sample->>'timestamp')::timestamptz AT TIME ZONE 'UTC')::date, s.sample "
            "FROM raw_records r, jsonb_array_elements(r.payload->'data') AS s(sample) "
            "WHERE r.provider = 'oura' AND r.record_type = 'heartrate' "
            "AND r.vendor_id LIKE 'heartrate:%' "
            "ON CONFLICT ON CONSTRAINT uq_raw_records_content DO NOTHING"
        )
    )
    conn.execute(
        sa.text(
            "DELETE FROM raw_records WHERE provider = 'oura' "
            "AND record_type = 'heartrate' AND vendor_id LIKE 'heartrate:%'"
        )
    )
