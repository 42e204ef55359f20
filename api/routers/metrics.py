"""Prometheus metrics, for a scraper holding the metrics token or running on this host."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.deps import StateDep
from api.errors import ERROR_RESPONSES, ForbiddenError, UnauthorizedError

router = APIRouter(tags=["operations"])
# A request that passed through a proxy came from somewhere else, whatever its peer address.
_FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def is_local_client(request: Request) -> bool:
    """The peer is on the loopback interface (127.0.0.0/8, ::1) and no proxy forwarded the
    request. A peer that is not an IP address (a test client's name) is not local."""
    if request.client is None or any(h in request.headers for h in _FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def check_scraper(request: Request, state: StateDep) -> None:
    """With API_METRICS_TOKEN set, the scraper must send it as a Bearer token (401);
    without it, only a local client is served (403)."""
    token = state.api.metrics_token
    expected = token.get_secret_value().strip().encode() if token is not None else b""
    if not expected:  # unset, or set to nothing (`API_METRICS_TOKEN=`): no token opens it
        if not is_local_client(request):
            raise ForbiddenError(
                "metrics are served to this host only; set API_METRICS_TOKEN "
                "to scrape from elsewhere",
                code="metrics_local_only",
            )
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        raise UnauthorizedError(
            "the metrics bearer token is missing or wrong", code="metrics_token_required"
        )


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        401: ERROR_RESPONSES[401],
        403: ERROR_RESPONSES[403],
    },
)
def read_metrics(request: Request, state: StateDep) -> Response:
    """Request latency by route, provider calls, token refreshes, rows, pipeline backlog.

    Needs `Authorization: Bearer <API_METRICS_TOKEN>` when that token is configured;
    otherwise it answers only clients on this host's loopback interface."""
    check_scraper(request, state)
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
