"""Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import StateDep

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
def read_metrics(state: StateDep) -> Response:
    """Request latency by route, provider calls, token refreshes, rows, pipeline backlog."""
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
