"""Apple Health imports, in one place: an uploaded export's whole life.

    received --parse (raw_apple_health)--> parsed --normalise runs launched--> imported
        '---------- not an export / unreadable ------> failed

The API records an upload (`record_upload`); the pipeline claims received uploads
(`claim_received`), stores their raw documents and says which local days they touched
(`finish_parse`); a sensor launches the runs that normalise those days (`parsed_imports`,
`mark_imported`). The uploaded file is deleted once parsed: its records live on in
raw_records. No Dagster here: the API imports this module."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text


class ImportStatus(StrEnum):
    RECEIVED = "received"
    PARSED = "parsed"
    IMPORTED = "imported"
    FAILED = "failed"


@dataclass(frozen=True)
class ImportRow:
    """One import as stored."""

    id: int
    user_id: str
    status: str
    file_path: str | None
    size_bytes: int
    sha256: str
    first_day: date | None
    last_day: date | None
    summary: dict[str, Any] | None
    error: str | None


_COLUMNS = (
    "id, user_id::text, status, file_path, size_bytes, sha256, first_day, last_day, summary, error"
)


def upload_dir(data_dir: Path, user_id: str) -> Path:
    """Where a user's uploads wait for the pipeline (API and pipeline share the data dir)."""
    return data_dir / "imports" / "apple_health" / str(uuid.UUID(user_id))


def record_upload(
    conn: Connection, user_id: str, file_path: Path, size_bytes: int, sha256: str
) -> tuple[ImportRow, bool]:
    """Store an upload; returns (its import, True) - or, when the same file (same digest) of
    this user is already waiting or imported, (that import, False): the caller deletes the
    new copy. Exports re-sent with more days are new files: their unchanged days add
    nothing to the raw store."""
    conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('apple_health_upload:' || :u))"), {"u": user_id}
    )
    same = conn.execute(
        text(
            f"SELECT {_COLUMNS} FROM apple_health_imports WHERE user_id = :u AND sha256 = :h "  # noqa: S608
            "AND status <> 'failed' ORDER BY id DESC LIMIT 1"
        ),
        {"u": user_id, "h": sha256},
    ).first()
    if same is not None:
        return ImportRow(*same), False
    row = conn.execute(
        text(
            "INSERT INTO apple_health_imports (user_id, file_path, size_bytes, sha256) "  # noqa: S608
            f"VALUES (:u, :p, :s, :h) RETURNING {_COLUMNS}"
        ),
        {"u": user_id, "p": str(file_path), "s": size_bytes, "h": sha256},
    ).one()
    return ImportRow(*row), True


def get_import(conn: Connection, user_id: str, import_id: int) -> ImportRow | None:
    row = conn.execute(
        text(f"SELECT {_COLUMNS} FROM apple_health_imports WHERE id = :i AND user_id = :u"),  # noqa: S608
        {"i": import_id, "u": user_id},
    ).first()
    return None if row is None else ImportRow(*row)


def list_imports(conn: Connection, user_id: str, limit: int = 50) -> list[ImportRow]:
    rows = conn.execute(
        text(
            f"SELECT {_COLUMNS} FROM apple_health_imports WHERE user_id = :u "  # noqa: S608
            "ORDER BY id DESC LIMIT :n"
        ),
        {"u": user_id, "n": limit},
    ).all()
    return [ImportRow(*r) for r in rows]


def claim_received(
    conn: Connection, users: list[str] | None = None, limit: int = 10
) -> list[ImportRow]:
    """Received uploads (of these users, or anyone's), oldest first, marked as started so that
    a concurrent run skips them (SKIP LOCKED)."""
    rows = conn.execute(
        text(
            "UPDATE apple_health_imports SET started_at = now() WHERE id IN ("  # noqa: S608
            "SELECT id FROM apple_health_imports WHERE status = 'received' "
            "AND (CAST(:users AS uuid[]) IS NULL OR user_id = ANY(CAST(:users AS uuid[]))) "
            "AND (started_at IS NULL OR started_at < now() - interval '1 hour') "
            f"ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED) RETURNING {_COLUMNS}"
        ),
        {"users": users, "n": limit},
    ).all()
    return [ImportRow(*r) for r in sorted(rows)]


def finish_parse(
    conn: Connection,
    import_id: int,
    summary: dict[str, Any],
    first_day: date | None,
    last_day: date | None,
    error: str | None = None,
) -> None:
    """Parsed (with the days it touched), or failed with why. The file is forgotten."""
    status = (
        ImportStatus.FAILED if error is not None and first_day is None else (ImportStatus.PARSED)
    )
    conn.execute(
        text(
            "UPDATE apple_health_imports SET status = :s, summary = CAST(:summary AS jsonb), "
            "first_day = :f, last_day = :l, error = :e, file_path = NULL, "
            "finished_at = CASE WHEN :failed THEN now() END WHERE id = :i"
        ),
        {
            "s": status.value,
            "failed": status is ImportStatus.FAILED,
            "summary": json.dumps(summary),
            "f": first_day,
            "l": last_day,
            "e": error,
            "i": import_id,
        },
    )


def parsed_imports(conn: Connection, limit: int = 20) -> list[ImportRow]:
    rows = conn.execute(
        text(
            f"SELECT {_COLUMNS} FROM apple_health_imports WHERE status = 'parsed' "  # noqa: S608
            "ORDER BY id LIMIT :n"
        ),
        {"n": limit},
    ).all()
    return [ImportRow(*r) for r in rows]


def received_users(conn: Connection, limit: int = 50) -> list[tuple[str, int]]:
    """Users with an upload waiting to be parsed, and their latest such upload's id."""
    return [
        (r[0], int(r[1]))
        for r in conn.execute(
            text(
                "SELECT user_id::text, max(id) FROM apple_health_imports WHERE status = 'received' "
                "GROUP BY user_id ORDER BY min(id) LIMIT :n"
            ),
            {"n": limit},
        ).all()
    ]


def mark_imported(conn: Connection, import_id: int) -> None:
    conn.execute(
        text(
            "UPDATE apple_health_imports SET status = 'imported', "
            "finished_at = now() WHERE id = :i AND status = 'parsed'"
        ),
        {"i": import_id},
    )
