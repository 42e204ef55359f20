"""Vendor webhooks (signed by the vendor; no user token)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from starlette.concurrency import run_in_threadpool

from api.deps import StateDep
from api.errors import ERROR_RESPONSES, ApiError
from api.schemas.providers import WebhookAccepted
from api.services.webhooks import receive_webhook

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)
MAX_BODY = 1 << 20


class PayloadTooLargeError(ApiError):
    status_code = 413
    code = "too_large"


@router.post("/{provider}", response_model=WebhookAccepted,
             status_code=status.HTTP_202_ACCEPTED)
async def receive(provider: str, request: Request, state: StateDep) -> WebhookAccepted:
    """A vendor's notification: verified by its signature, recorded as sync requests."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise PayloadTooLargeError("webhook body too large")
    return await run_in_threadpool(receive_webhook, state, provider, dict(request.headers), body)
