"""Uploading a vendor export from the devices page (Apple Health: there is no vendor API to
link; the person uploads the Health app's export). The API's import service stores it and
the pipeline imports it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.deps import StateDep
from api.errors import ApiError, ForbiddenError
from api.services import apple_health
from api.web.deps import VisitorDep
from api.web.render import WebRoute, redirect
from api.web.session import CSRF_FIELD, csrf_matches

router = APIRouter(
    prefix="/app/devices/apple_health", route_class=WebRoute, include_in_schema=False
)
# What the devices page says for each failed upload (codes from the import service).
IMPORT_ERRORS = {
    "too_large": "The file is larger than this installation accepts.",
    "not_an_export": "That file is not the Health app's export (export.zip or export.xml).",
    "no_file": "Choose the export file first.",
}
CHUNK = 1 << 20


@router.post("/upload")
async def upload_export(request: Request, visitor: VisitorDep, state: StateDep) -> Response:
    """Store the uploaded export for the pipeline; the devices page then lists it."""
    back = "/app/devices?{}#provider-apple_health"
    async with request.form(max_files=1, max_fields=5) as form:
        if not csrf_matches(visitor.csrf, form.get(CSRF_FIELD)):
            raise ForbiddenError(
                "the form expired or came from another site: reload the page and try again",
                code="csrf_failed",
            )
        export = form.get("export")
        if not isinstance(export, UploadFile) or not export.filename:
            return redirect(back.format("import_error=no_file"))

        async def chunks() -> AsyncIterator[bytes]:
            while chunk := await export.read(CHUNK):
                yield chunk

        try:
            path, size, digest = await apple_health.save_upload(
                chunks(),
                apple_health.folder_for(state.settings.data_dir, visitor.user.id),
                state.settings.apple_health_max_upload_bytes,
                export.size,
            )
        except ApiError as exc:
            return redirect(back.format("import_error=" + quote(exc.code, safe="")))
    row, _ = await run_in_threadpool(
        apple_health.record,
        state.engine,
        state.settings.data_dir,
        visitor.user.id,
        path,
        size,
        digest,
    )
    return redirect(back.format(f"imported={row.id}"))
