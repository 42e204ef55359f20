"""Export of the caller's own data."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from api.deps import CurrentUser, StateDep
from api.errors import ERROR_RESPONSES
from api.services.export import Dataset, ExportFormat, check_export, csv_chunks, parquet_bytes

router = APIRouter(prefix="/v1/exports", tags=["health data"], responses=ERROR_RESPONSES)
_FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}},
                      "application/vnd.apache.parquet": {
                          "schema": {"type": "string", "format": "binary"}}},
          "description": "The file."}}


@router.get("/{dataset}", response_class=Response, responses=_FILE)
def export_dataset(
    dataset: Dataset,
    user: CurrentUser,
    state: StateDep,
    start_day: Annotated[date, Query()] = date(1970, 1, 1),
    end_day: Annotated[date, Query()] = date(9999, 12, 31),
    format: Annotated[ExportFormat, Query()] = ExportFormat.CSV,
) -> Response:
    """The caller's indicator values, daily summaries or raw vendor records as CSV or Parquet."""
    max_rows = state.api.max_export_rows
    check_export(state.engine, dataset, user.id, start_day, end_day, max_rows)
    name = f"mirobody-{dataset.value}.{format.value}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format is ExportFormat.PARQUET:
        return Response(parquet_bytes(state.engine, dataset, user.id, start_day, end_day,
                                      max_rows),
                        media_type="application/vnd.apache.parquet", headers=headers)
    return StreamingResponse(csv_chunks(state.engine, dataset, user.id, start_day, end_day,
                                        max_rows), media_type="text/csv", headers=headers)
