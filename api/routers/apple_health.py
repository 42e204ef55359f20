"""Apple Health: the Health app's export, uploaded as the request body."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, SessionDep, StateDep
from api.errors import ERROR_RESPONSES, ErrorBody
from api.schemas.apple_health import AppleHealthImportPublic, AppleHealthImportsPublic
from api.services import apple_health
from mirobody_assets.storage.apple_health_imports import ImportRow

router = APIRouter(prefix="/v1/imports/apple-health", tags=["imports"], responses=ERROR_RESPONSES)


def _public(row: ImportRow) -> AppleHealthImportPublic:
    return AppleHealthImportPublic.model_validate(dataclasses.asdict(row))


@router.post(
    "",
    response_model=AppleHealthImportPublic,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        200: {"model": AppleHealthImportPublic, "description": "the same file, sent before"},
        413: {"model": ErrorBody, "description": "larger than APPLE_HEALTH_MAX_UPLOAD_BYTES"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
                "application/xml": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def upload_apple_health_export(
    request: Request, response: Response, user: CurrentUser, state: StateDep, session: SessionDep
) -> AppleHealthImportPublic:
    """Upload the Health app's export (export.zip, or its export.xml) as the request body.

    The body is streamed to disk (413 past APPLE_HEALTH_MAX_UPLOAD_BYTES); the pipeline then
    imports it. Sending the same file again returns its first import (200); a newer export,
    which holds the older one, adds only the days that changed."""
    # The caller is known: give the pooled connection back for the (long) upload.
    await run_in_threadpool(session.close)
    declared = request.headers.get("content-length")
    path, size, digest = await apple_health.save_upload(
        request.stream(),
        apple_health.folder_for(state.settings.data_dir, user.id),
        state.settings.apple_health_max_upload_bytes,
        int(declared) if declared and declared.isdigit() else None,
    )
    row, created = await run_in_threadpool(
        apple_health.record, state.engine, state.settings.data_dir, user.id, path, size, digest
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return _public(row)


@router.get("", response_model=AppleHealthImportsPublic)
def list_apple_health_imports(
    user: CurrentUser, state: StateDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> AppleHealthImportsPublic:
    """The caller's Apple Health uploads, newest first, with their import status."""
    rows = apple_health.read_all(state.engine, user.id, limit)
    return AppleHealthImportsPublic(data=[_public(r) for r in rows], count=len(rows))


@router.get("/{import_id}", response_model=AppleHealthImportPublic)
def read_apple_health_import(
    import_id: int, user: CurrentUser, state: StateDep
) -> AppleHealthImportPublic:
    """One of the caller's Apple Health uploads."""
    return _public(apple_health.read(state.engine, user.id, import_id))
