"""Pages of the person's data: the dashboard (last 30 days), a page per indicator (range and
resolution), and "my data" (export, delete everything). Reads go through the API's services,
always for the signed-in person only."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from api.deps import SessionDep, StateDep
from api.errors import InvalidRequestError, NotFoundError
from api.schemas.health import Resolution, SeriesPoint
from api.services.deletion import delete_account, delete_health_data
from api.services.export import Dataset, ExportFormat, check_export, csv_chunks, parquet_bytes
from api.services.providers import revoke_all
from api.services.series import read_series
from api.services.summaries import read_daily_summaries
from api.web.charts import ChartKind, Point, svg_chart
from api.web.deps import FormDep, VisitorDep, field
from api.web.render import WebRoute, redirect, render, secure
from api.web.session import end_session
from indicators import CATALOGUE, Rollup
from mirobody_assets.storage.models import DailySummary, RawRecord

router = APIRouter(prefix="/app", route_class=WebRoute, include_in_schema=False)
# Shown first when present, in this order; everything else the person has follows by name.
KEY_INDICATORS = ("steps", "sleep_duration_asleep", "resting_heart_rate", "hrv_rmssd", "weight")
DASHBOARD_DAYS = 30
PAGE = 5000
MAX_POINTS = 20_000
# Widest range per resolution on the indicator page (the chart stays readable and cheap).
MAX_RANGE_DAYS = {Resolution.DAY: 3660, Resolution.HOUR: 92, Resolution.RAW: 14}


def kind_of(indicator: str) -> ChartKind:
    return "bar" if CATALOGUE[indicator].rollup is Rollup.SUM else "line"


def _last_day(session: SessionDep, user_id: Any) -> date | None:
    return session.scalar(select(func.max(DailySummary.day)).where(DailySummary.user_id == user_id))


@router.get("")
def dashboard(request: Request, visitor: VisitorDep, session: SessionDep) -> Response:
    """The last 30 days (up to the latest day with data) of every indicator the person has."""
    last = _last_day(session, visitor.user.id)
    cards: list[dict[str, Any]] = []
    if last is not None:
        first = last - timedelta(days=DASHBOARD_DAYS - 1)
        by_indicator: dict[str, list[Any]] = defaultdict(list)
        cursor: str | None = None
        while True:
            page = read_daily_summaries(session, visitor.user.id, first, last, None, PAGE, cursor)
            for row in page.data:
                by_indicator[row.indicator].append(row)
            cursor = page.next_cursor
            if cursor is None:
                break
        known = [i for i in by_indicator if i in CATALOGUE]
        order = [i for i in KEY_INDICATORS if i in by_indicator] + sorted(
            (i for i in known if i not in KEY_INDICATORS), key=lambda i: CATALOGUE[i].name
        )
        for indicator in order:
            rows = by_indicator[indicator]
            meta = CATALOGUE[indicator]
            latest = rows[-1]
            sources = sorted({s for r in rows for s in (r.sources or r.source).split(",") if s})
            cards.append(
                {
                    "id": indicator,
                    "name": meta.name,
                    "unit": meta.unit,
                    "latest": latest,
                    "sources": sources,
                    "key": indicator in KEY_INDICATORS,
                    "chart": svg_chart(
                        [Point(r.day, r.value) for r in rows],
                        title=meta.name,
                        unit=meta.unit,
                        kind=kind_of(indicator),
                        compact=True,
                    ),
                }
            )
    return render(
        request,
        "dashboard.html",
        user=visitor.user,
        csrf=visitor.csrf,
        cards=cards,
        last=last,
        days=DASHBOARD_DAYS,
    )


def _parse_day(value: str, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequestError(f"not a date (YYYY-MM-DD): {value[:20]}") from None


@router.get("/indicators/{indicator}")
def indicator_page(
    indicator: str,
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    start: str = "",
    end: str = "",
    resolution: str = "day",
    source: str = "",
) -> Response:
    """One indicator over a chosen range and resolution, per source, with a table."""
    meta = CATALOGUE.get(indicator)
    if meta is None:
        raise NotFoundError("no such indicator", code="unknown_indicator")
    errors: dict[str, str] = {}
    try:
        res = Resolution(resolution)
    except ValueError:
        res, errors["resolution"] = Resolution.DAY, "choose day, hour or raw"
    last = _last_day(session, visitor.user.id) or datetime.now(UTC).date()
    try:
        end_day = _parse_day(end, last)
    except InvalidRequestError as exc:
        end_day, errors["end"] = last, exc.reason
    default_start = end_day - timedelta(days=29 if res is Resolution.DAY else 2)
    try:
        start_day = _parse_day(start, default_start)
    except InvalidRequestError as exc:
        start_day, errors["start"] = default_start, exc.reason
    if start_day > end_day:
        errors["start"] = "the start is after the end"
        start_day = default_start
    if (end_day - start_day).days + 1 > MAX_RANGE_DAYS[res]:
        errors["start"] = f"at most {MAX_RANGE_DAYS[res]} days at {res.value} resolution"
        start_day = end_day - timedelta(days=MAX_RANGE_DAYS[res] - 1)
    points: list[SeriesPoint] = []
    cursor: str | None = None
    sources = [source[:100]] if source else None
    while len(points) < MAX_POINTS:
        page = read_series(
            session,
            visitor.user.id,
            [indicator],
            datetime.combine(start_day, time(), UTC),
            datetime.combine(end_day + timedelta(days=1), time(), UTC),
            res,
            sources,
            PAGE,
            cursor,
        )
        points += page.data
        cursor = page.next_cursor
        if cursor is None:
            break
    series: dict[str, list[Point]] = defaultdict(list)
    for p in points:
        at = p.day if p.day is not None else p.start
        if at is not None:
            series[p.source].append(Point(at, p.value))
    charts = [
        {
            "source": s,
            "chart": svg_chart(
                sorted(v, key=lambda q: str(q.at)),
                title=f"{meta.name}, {s}",
                unit=meta.unit,
                kind=kind_of(indicator),
            ),
            "count": len(v),
        }
        for s, v in sorted(series.items())
    ]
    return render(
        request,
        "indicator.html",
        user=visitor.user,
        csrf=visitor.csrf,
        meta=meta,
        charts=charts,
        points=points[:500],
        total=len(points),
        errors=errors,
        start=start_day,
        end=end_day,
        resolution=res.value,
        source=source[:100],
        truncated=cursor is not None,
    )


def _counts(session: SessionDep, user_id: Any) -> dict[str, int]:
    return {
        name: session.scalar(
            select(func.count()).select_from(model).where(model.user_id == user_id)
        )
        or 0
        for name, model in (("daily summaries", DailySummary), ("raw vendor records", RawRecord))
    }


@router.get("/data")
def data_page(
    request: Request, visitor: VisitorDep, session: SessionDep, deleted: str = ""
) -> Response:
    """Export and deletion, with what each covers."""
    return render(
        request,
        "data.html",
        user=visitor.user,
        csrf=visitor.csrf,
        counts=_counts(session, visitor.user.id),
        datasets=[d.value for d in Dataset],
        deleted=deleted == "1",
        errors={},
    )


@router.post("/data/export")
def export(request: Request, visitor: VisitorDep, form: FormDep, state: StateDep) -> Response:
    """Download one dataset of the person's data as CSV or Parquet."""
    try:
        dataset = Dataset(field(form, "dataset", 40))
        fmt = ExportFormat(field(form, "format", 20))
    except ValueError:
        raise InvalidRequestError("choose a dataset and a format") from None
    start, end = date(1970, 1, 1), date(9999, 12, 31)
    check_export(state.engine, dataset, visitor.user.id, start, end, state.api.max_export_rows)
    name = f"mirobody-{dataset.value}.{fmt.value}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt is ExportFormat.PARQUET:
        body = parquet_bytes(
            state.engine, dataset, visitor.user.id, start, end, state.api.max_export_rows
        )
        return secure(Response(body, media_type="application/vnd.apache.parquet", headers=headers))
    return secure(
        StreamingResponse(
            csv_chunks(
                state.engine, dataset, visitor.user.id, start, end, state.api.max_export_rows
            ),
            media_type="text/csv",
            headers=headers,
        )
    )


@router.post("/data/delete")
async def delete_data(
    request: Request, visitor: VisitorDep, form: FormDep, state: StateDep, session: SessionDep
) -> Response:
    """Delete all health data after the person typed the confirmation word."""
    if field(form, "confirm", 20).strip().lower() != "delete":
        counts = await run_in_threadpool(_counts, session, visitor.user.id)
        return render(
            request,
            "data.html",
            422,
            user=visitor.user,
            csrf=visitor.csrf,
            counts=counts,
            datasets=[d.value for d in Dataset],
            deleted=False,
            errors={"confirm": 'type "delete" to confirm'},
        )
    await run_in_threadpool(delete_health_data, state, session, visitor.user.id)
    return redirect("/app/data?deleted=1")


@router.post("/data/delete-account")
async def delete_my_account(
    request: Request, visitor: VisitorDep, form: FormDep, state: StateDep, session: SessionDep
) -> Response:
    """Delete the account and all of it (vendor grants revoked first), then sign out."""
    if field(form, "confirm_account", 320).strip().casefold() != visitor.user.email.casefold():
        counts = await run_in_threadpool(_counts, session, visitor.user.id)
        return render(
            request,
            "data.html",
            422,
            user=visitor.user,
            csrf=visitor.csrf,
            counts=counts,
            datasets=[d.value for d in Dataset],
            deleted=False,
            errors={"confirm_account": "type your email address to confirm"},
        )
    revocations = await revoke_all(state, visitor.user.id)
    await run_in_threadpool(delete_account, state, session, visitor.user, revocations)
    response = redirect("/app/signup?goodbye=1")
    end_session(state, request, response)
    return response
