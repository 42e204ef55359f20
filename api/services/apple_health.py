"""Apple Health uploads: an export streamed to disk under a size limit, then recorded for the
pipeline (mirobody_assets.storage.apple_health_imports), which parses it."""

from __future__ import annotations

import hashlib
import logging
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from sqlalchemy import Engine

from api.errors import ApiError, InvalidRequestError, NotFoundError
from mirobody_assets.storage.apple_health_imports import (
    ImportRow,
    get_import,
    list_imports,
    record_upload,
    upload_dir,
)

log = logging.getLogger(__name__)
CHUNK = 1 << 20
ZIP_MAGIC = b"PK\x03\x04"


class UploadTooLargeError(ApiError):
    status_code = 413
    code = "too_large"


def _too_large(limit: int) -> UploadTooLargeError:
    return UploadTooLargeError(
        f"the export is larger than this server accepts ({limit} bytes; "
        "APPLE_HEALTH_MAX_UPLOAD_BYTES)"
    )


def _looks_like_export(head: bytes) -> bool:
    """A zip (Apple's export.zip) or XML text (export.xml, maybe with a byte-order mark)."""
    start = head.lstrip(b"\xef\xbb\xbf").lstrip()
    return (
        head.startswith(ZIP_MAGIC) or start.startswith(b"<?xml") or start.startswith(b"<HealthData")
    )


async def save_upload(
    chunks: AsyncIterator[bytes], folder: Path, limit: int, declared: int | None
) -> tuple[Path, int, str]:
    """Write the body to a new file in `folder`, chunk by chunk (never the whole body in
    memory); stop with 413 past `limit` bytes and remove the partial file. Returns the file,
    its size and its sha256."""
    if declared is not None and declared > limit:
        raise _too_large(limit)
    await anyio.to_thread.run_sync(lambda: folder.mkdir(parents=True, exist_ok=True))
    path = folder / f"{uuid.uuid4()}.upload"
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        async with await anyio.open_file(path, "xb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                if len(head) < 64:
                    head += chunk[:64]
                digest.update(chunk)
                await out.write(chunk)
        if size == 0 or not _looks_like_export(head):
            raise InvalidRequestError(
                "the body is neither export.zip nor export.xml", code="not_an_export"
            )
    except BaseException:
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))
        raise
    path.chmod(0o600)  # health data: readable by the service only
    return path, size, digest.hexdigest()


def record(
    engine: Engine, data_dir: Path, user_id: uuid.UUID, path: Path, size: int, sha256: str
) -> tuple[ImportRow, bool]:
    """Record the upload for the pipeline; the same file sent again returns its first
    import (and the copy is deleted)."""
    with engine.begin() as conn:
        row, created = record_upload(conn, str(user_id), path, size, sha256)
    if not created:
        path.unlink(missing_ok=True)
    log.info(
        "apple health upload %s of user %s: %d bytes%s",
        row.id,
        user_id,
        size,
        "" if created else " (same file as before)",
    )
    return row, created


def folder_for(data_dir: Path, user_id: uuid.UUID) -> Path:
    """The user's upload folder, absolute: the pipeline may run from another directory."""
    return upload_dir(data_dir, str(user_id)).resolve()


def delete_uploads(data_dir: Path, user_id: uuid.UUID) -> None:
    """Remove the user's uploaded exports still waiting to be parsed (deletion of their data;
    the import rows go with the health data's tables)."""
    shutil.rmtree(folder_for(data_dir, user_id), ignore_errors=True)


def read(engine: Engine, user_id: uuid.UUID, import_id: int) -> ImportRow:
    with engine.connect() as conn:
        row = get_import(conn, str(user_id), import_id)
    if row is None:
        raise NotFoundError("no such import")
    return row


def read_all(engine: Engine, user_id: uuid.UUID, limit: int) -> list[ImportRow]:
    with engine.connect() as conn:
        return list_imports(conn, str(user_id), limit)
