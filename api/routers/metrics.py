"""Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.deps import StateDep

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
def read_metrics(state: StateDep) -> Response:
    """Request latency by route, provider calls, token refreshes, rows, pipeline backlog."""
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
