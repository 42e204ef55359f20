"""Export of the caller's own data."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import StreamingResponse

from api.deps import CurrentUser, StateDep
from api.errors import ERROR_RESPONSES
from api.services.export import Dataset, ExportFormat, check_export, csv_chunks, parquet_bytes

router = APIRouter(prefix="/v1/exports", tags=["health data"], responses=ERROR_RESPONSES)
_FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
        },
        "description": "The file.",
    }
}


class ExportName(StrEnum):
    """A dataset by its table name (`daily_summary`) or as the read routes spell it
    (`daily-summaries`, like `GET /v1/daily-summaries`): both work."""

    INDICATOR_VALUES = "indicator_values"
    INDICATOR_VALUES_ROUTE = "indicator-values"
    DAILY_SUMMARY = "daily_summary"
    DAILY_SUMMARIES_ROUTE = "daily-summaries"
    RAW_RECORDS = "raw_records"
    RAW_RECORDS_ROUTE = "raw-records"

    @property
    def dataset(self) -> Dataset:
        return _DATASETS[self]


_DATASETS = {
    ExportName.INDICATOR_VALUES: Dataset.INDICATOR_VALUES,
    ExportName.INDICATOR_VALUES_ROUTE: Dataset.INDICATOR_VALUES,
    ExportName.DAILY_SUMMARY: Dataset.DAILY_SUMMARY,
    ExportName.DAILY_SUMMARIES_ROUTE: Dataset.DAILY_SUMMARY,
    ExportName.RAW_RECORDS: Dataset.RAW_RECORDS,
    ExportName.RAW_RECORDS_ROUTE: Dataset.RAW_RECORDS,
}


@router.get("/{dataset}", response_class=Response, responses=_FILE)
def export_dataset(
    dataset: Annotated[
        ExportName,
        Path(
            description=(
                "indicator_values, daily_summary or raw_records; the read routes' spelling "
                "(indicator-values, daily-summaries, raw-records) works too."
            )
        ),
    ],
    user: CurrentUser,
    state: StateDep,
    start_day: Annotated[date, Query()] = date(1970, 1, 1),
    end_day: Annotated[date, Query()] = date(9999, 12, 31),
    format: Annotated[ExportFormat, Query()] = ExportFormat.CSV,
) -> Response:
    """The caller's indicator values, daily summaries or raw vendor records as CSV or Parquet."""
    table = dataset.dataset
    max_rows = state.api.max_export_rows
    check_export(state.engine, table, user.id, start_day, end_day, max_rows)
    filename = f"mirobody-{table.value}.{format.value}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if format is ExportFormat.PARQUET:
        return Response(
            parquet_bytes(state.engine, table, user.id, start_day, end_day, max_rows),
            media_type="application/vnd.apache.parquet",
            headers=headers,
        )
    return StreamingResponse(
        csv_chunks(state.engine, table, user.id, start_day, end_day, max_rows),
        media_type="text/csv",
        headers=headers,
    )
