"""Importing an uploaded Apple Health export into the raw store, free of Dagster.

The export is read as a stream (providers.apple_health.export): memory stays flat whatever
its size. Its documents (one per HealthKit type and local day) are stored in batches, each in
its own transaction under the user's write lock (user_locks).

Each record is stored once. The next export holds the previous one: a day whose document is
the same text adds nothing (same content hash); a day that grew since (the last, partial day
of the previous export) adds a part document `<type>:<day>:+<digest>` holding only the
records not stored yet. Records deleted in the Health app since an earlier export stay."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from indicators.frames import canonical_json
from mirobody_assets.storage import raw_store
from mirobody_assets.storage.apple_health_imports import ImportRow, finish_parse
from mirobody_assets.storage.user_locks import live_rows
from providers.apple_health.export import (
    ExportDocument,
    ExportFormatError,
    ExportSummary,
    open_export,
    read_export,
)
from providers.raw import make_record, raw_frame

log = logging.getLogger(__name__)
PROVIDER = "apple_health"
BATCH_DOCUMENTS = 2_000


@dataclass(frozen=True)
class ImportResult:
    """What one import stored, for the asset's metadata."""

    import_id: int
    user_id: str
    documents: int
    new_documents: int
    first_day: date | None
    last_day: date | None
    summary: dict[str, Any]
    error: str | None


def _batches(docs: Iterable[ExportDocument], size: int) -> Iterable[list[ExportDocument]]:
    it = iter(docs)
    while batch := list(islice(it, size)):
        yield batch


def _stored(
    conn: Connection, user_id: str, docs: list[ExportDocument]
) -> dict[str, list[tuple[str, str, Any]]]:
    """Stored documents (vendor id, content hash, records) of these documents' days, by the
    base vendor id (`<type>:<day>`) they belong to."""
    days = sorted({d.day for d in docs})
    rows = conn.execute(
        text(
            "SELECT vendor_id, content_hash, payload->'records' FROM raw_records "
            "WHERE user_id = CAST(:u AS uuid) AND day = ANY(:days) AND provider = :p"
        ),
        {"u": user_id, "days": days, "p": PROVIDER},
    ).all()
    out: dict[str, list[tuple[str, str, Any]]] = {}
    for vendor_id, digest, records in rows:
        out.setdefault(vendor_id.split(":+", 1)[0], []).append((vendor_id, digest, records))
    return out


def only_new(conn: Connection, user_id: str, docs: list[ExportDocument]) -> list[ExportDocument]:
    """The documents to store so that every record is stored once: new days whole, grown
    days as a part of their new records, unchanged days not at all."""
    stored = _stored(conn, user_id, docs)
    out = []
    for doc in docs:
        before = stored.get(doc.vendor_id)
        if not before or ":malformed:" in doc.vendor_id:
            out.append(doc)  # a new day (a malformed record is its own, content-named doc)
            continue
        digest = hashlib.sha256(canonical_json(doc.payload).encode()).hexdigest()
        if any(h == digest for _, h, _ in before):
            continue
        known = {canonical_json(r) for _, _, records in before for r in records or []}
        fresh = [r for r in doc.payload["records"] if canonical_json(r) not in known]
        if not fresh:
            continue
        part = hashlib.sha256(json.dumps([canonical_json(r) for r in fresh]).encode())
        out.append(
            ExportDocument(
                doc.record_type,
                f"{doc.vendor_id}:+{part.hexdigest()[:16]}",
                doc.day,
                doc.version,
                {**doc.payload, "records": fresh},
            )
        )
    return out


def summary_dict(summary: ExportSummary, new_documents: int) -> dict[str, Any]:
    return {
        "export_date": summary.export_date,
        "documents": summary.documents,
        "new_documents": new_documents,
        "records": dict(summary.records),
        "ignored": dict(summary.ignored),
        "unlisted": dict(summary.unlisted),
        "malformed": summary.malformed,
        "xml_error": summary.error,
    }


def import_export(
    engine: Engine,
    imp: ImportRow,
    spill_dir: Path | None = None,
    batch_documents: int = BATCH_DOCUMENTS,
) -> ImportResult:
    """Parse one uploaded export and store its raw documents; record the outcome on the
    import (days touched, counts, or why it failed) and delete the uploaded file."""
    new = 0
    summary = ExportSummary()
    error: str | None = None
    path = Path(imp.file_path) if imp.file_path else None
    try:
        if path is None or not path.exists():
            raise ExportFormatError("the uploaded file is gone")
        with ExitStack() as stack:
            summary, docs = read_export(open_export(path, stack), spill_dir)
            for batch in _batches(docs, batch_documents):
                with engine.begin() as conn:
                    frame = raw_frame(
                        make_record(
                            PROVIDER,
                            imp.user_id,
                            d.record_type,
                            d.vendor_id,
                            d.version,
                            d.day,
                            d.payload,
                        )
                        for d in only_new(conn, imp.user_id, batch)
                    )
                    new += raw_store.insert_raw_records(conn, live_rows(conn, frame))
        error = summary.error
    except ExportFormatError as exc:
        error = str(exc)
    except (OSError, EOFError) as exc:  # a truncated zip, an unreadable member
        error = f"the upload cannot be read: {type(exc).__name__}: {exc}"
    if error:
        log.warning("apple health import %s of user %s: %s", imp.id, imp.user_id, error)
    details = summary_dict(summary, new)
    with engine.begin() as conn:
        finish_parse(conn, imp.id, details, summary.first_day, summary.last_day, error)
    if path is not None:
        path.unlink(missing_ok=True)
    return ImportResult(
        imp.id,
        imp.user_id,
        summary.documents,
        new,
        summary.first_day,
        summary.last_day,
        details,
        error,
    )
