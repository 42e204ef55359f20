"""Vendor webhooks (no user token: signed by the vendor, or sent to a secret URL)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from starlette.concurrency import run_in_threadpool

from api.deps import StateDep
from api.errors import ERROR_RESPONSES, ApiError
from api.schemas.providers import WebhookAccepted
from api.services import webhooks

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)
MAX_BODY = 1 << 20


class PayloadTooLargeError(ApiError):
    status_code = 413
    code = "too_large"


async def _body(request: Request) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise PayloadTooLargeError("webhook body too large")
    return body


@router.post("/{provider}", response_model=WebhookAccepted, status_code=status.HTTP_202_ACCEPTED)
async def receive(provider: str, request: Request, state: StateDep) -> WebhookAccepted:
    """A signing vendor's notification (WHOOP, Oura, Polar): verified by its signature,
    de-duplicated, recorded as sync requests."""
    body = await _body(request)
    return await run_in_threadpool(
        webhooks.receive_webhook, state, provider, dict(request.headers), body
    )


@router.post(
    "/{provider}/{secret}", response_model=WebhookAccepted, status_code=status.HTTP_202_ACCEPTED
)
async def receive_at_secret_url(
    provider: str, secret: str, request: Request, state: StateDep
) -> WebhookAccepted:
    """A notification sent to the provider's secret webhook URL (Withings, Garmin: vendors
    that sign nothing). Create the URL with `mirobody webhook-url <provider>`."""
    body = await _body(request)
    return await run_in_threadpool(
        webhooks.receive_webhook, state, provider, dict(request.headers), body, secret
    )


@router.head("/{provider}/{secret}", status_code=status.HTTP_200_OK, response_class=Response)
async def check_secret_url(provider: str, secret: str, state: StateDep) -> Response:
    """Withings checks a callback URL with HEAD before subscribing it: 200 for a live secret
    URL, 401 otherwise."""
    await run_in_threadpool(webhooks.authenticate_url, state, provider, secret)
    return Response(status_code=status.HTTP_200_OK)


@router.get("/{provider}")
async def subscription_challenge(
    provider: str, request: Request, state: StateDep
) -> dict[str, str]:
    """A vendor's subscription check (Oura: echo `challenge` when `verification_token` is
    ours)."""
    params = {k: v for k, v in request.query_params.items() if len(v) <= 512}
    return await run_in_threadpool(webhooks.verification_challenge, state, provider, params)
