"""Fitbit's subscriber endpoint: its verification check and its notifications, answered the
way Fitbit expects (204 No Content; 404 for a wrong verification code)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from api.deps import StateDep
from api.errors import ERROR_RESPONSES, NotFoundError
from api.routers.webhooks import _body
from api.services import webhooks
from api.services.providers import enabled_provider

router = APIRouter(prefix="/v1/webhooks/fitbit", tags=["webhooks"], responses=ERROR_RESPONSES)


@router.get("", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def verify_fitbit_subscriber(state: StateDep, verify: str = Query(max_length=512)) -> Response:
    """Fitbit's subscriber check: 204 for our verification code, 404 for any other."""
    provider = enabled_provider(state, "fitbit")
    check = getattr(provider, "verify_subscriber", None)
    if check is None or not check(verify):
        raise NotFoundError("wrong verification code", code="wrong_verification_code")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def receive_fitbit_notification(request: Request, state: StateDep) -> Response:
    """A Fitbit subscription notification (X-Fitbit-Signature): verified, de-duplicated and
    recorded as sync requests; answered 204 as Fitbit expects."""
    body = await _body(request)
    await run_in_threadpool(webhooks.receive_webhook, state, "fitbit", dict(request.headers), body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
