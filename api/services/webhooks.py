"""Vendor webhooks: verify the vendor's signature, then record sync requests for the pipeline."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from api.errors import InvalidRequestError, UnauthorizedError
from api.schemas.providers import WebhookAccepted
from api.services.providers import enabled_provider
from api.state import AppState
from mirobody_assets.storage.models import ProviderConnection, SyncRequest
from providers.errors import WebhookPayloadError, WebhookVerificationError
from providers.types import SyncRequest as VendorSyncRequest

log = logging.getLogger(__name__)


def _days(request: VendorSyncRequest) -> tuple[date, date]:
    if request.window is not None:
        days = request.window.days()
        return days[0], days[-1]
    if request.day is not None:
        return request.day, request.day
    today = datetime.now(UTC).date()
    return today - timedelta(days=1), today


def receive_webhook(state: AppState, slug: str, headers: Mapping[str, str],
                    body: bytes) -> WebhookAccepted:
    """Verify, parse, and record one sync request per known vendor user in the delivery."""
    provider = enabled_provider(state, slug)
    try:
        provider.verify_webhook(headers, body)
    except (WebhookVerificationError, ValueError, TypeError) as exc:
        # A signature header that does not even parse is as unverified as a wrong one.
        state.metrics.provider_pulls.labels(slug, "webhook_rejected").inc()
        log.warning("webhook rejected: %s", exc, extra={"provider": slug})
        raise UnauthorizedError("webhook signature missing, stale or wrong",
                                code="invalid_signature") from None
    try:
        requests = provider.parse_webhook(headers, body)
    except WebhookPayloadError as exc:
        raise InvalidRequestError(f"webhook body not understood: {exc}",
                                  code="invalid_webhook") from None
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("webhook body not understood (%s)", type(exc).__name__,
                    extra={"provider": slug})
        raise InvalidRequestError("webhook body not understood",
                                  code="invalid_webhook") from None
    accepted = unknown = 0
    with state.sessions() as session:
        for request in requests:
            users = session.scalars(select(ProviderConnection.user_id).where(
                ProviderConnection.provider == slug,
                ProviderConnection.vendor_user_id == request.vendor_user_id)).all()
            if not users:
                unknown += 1
                continue
            start, end = _days(request)
            for user_id in users:
                session.add(SyncRequest(
                    user_id=user_id, provider=slug, kind="webhook", start_day=start,
                    end_day=end, requested_by="webhook",
                    payload={"record_type": request.record_type, "object_id": request.object_id,
                             "event": request.event}))
                accepted += 1
        session.commit()
    state.metrics.provider_pulls.labels(slug, "webhook_accepted").inc(accepted)
    log.info("webhook recorded %d sync request(s), %d unknown user(s)", accepted, unknown,
             extra={"provider": slug})
    return WebhookAccepted(accepted=accepted, unknown_users=unknown)
