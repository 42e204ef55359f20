"""Vendor webhooks: authenticate the delivery, drop replays, record (coalesced) sync requests.

Authenticity: vendors that sign (WHOOP, Oura, Polar) are checked by their signature; vendors
that sign nothing (Withings, Garmin) by the secret in the callback URL registered with them
(`mirobody webhook-url`). A delivery seen before within the vendor's replay window is answered
alike and recorded nothing. The answer never says whether a vendor user is linked here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from api.errors import InvalidRequestError, UnauthorizedError
from api.schemas.providers import WebhookAccepted
from api.services.providers import enabled_provider
from api.state import AppState
from mirobody_assets.days import DayRange, DayRangeError, check_day_range
from mirobody_assets.storage.models import ProviderConnection
from mirobody_assets.storage.sync_requests import SyncKind, record_sync_request
from mirobody_assets.storage.webhook_secrets import check_webhook_secret
from providers.base import Provider
from providers.errors import WebhookPayloadError, WebhookVerificationError
from providers.types import SyncRequest as VendorSyncRequest
from providers.types import WebhookAuth

log = logging.getLogger(__name__)
# A webhook names a few days of changes; a longer range is not a notification.
MAX_WEBHOOK_DAYS = 31


def _days(request: VendorSyncRequest, today: date) -> tuple[date, date]:
    if request.window is not None:
        last = (request.window.end - timedelta(microseconds=1)).date()
        return request.window.start.date(), last
    if request.day is not None:
        return request.day, request.day
    return today - timedelta(days=1), today


def _reject(state: AppState, slug: str, why: str, code: str) -> UnauthorizedError:
    state.metrics.provider_pulls.labels(slug, "webhook_rejected").inc()
    log.warning("webhook rejected: %s", why, extra={"provider": slug})
    return UnauthorizedError(
        "webhook signature missing, stale or wrong"
        if code == "invalid_signature"
        else "unknown webhook URL",
        code=code,
    )


def authenticate_url(state: AppState, slug: str, url_secret: str | None) -> Provider:
    """The provider when `url_secret` is one of its live webhook URL secrets; 401 otherwise."""
    provider = enabled_provider(state, slug)
    with state.sessions() as session:
        known = check_webhook_secret(session, slug, url_secret)
    if not known:
        raise _reject(state, slug, "missing or unknown URL secret", "invalid_webhook_secret")
    return provider


def authenticate(
    state: AppState, slug: str, headers: Mapping[str, str], body: bytes, url_secret: str | None
) -> Provider:
    """The provider, once the delivery is proven to come from it; 401 otherwise."""
    provider = enabled_provider(state, slug)
    if provider.info.webhook_auth is WebhookAuth.URL_SECRET or url_secret is not None:
        authenticate_url(state, slug, url_secret)
    try:
        provider.verify_webhook(headers, body)
    except (WebhookVerificationError, ValueError, TypeError) as exc:
        # A signature header that does not even parse is as unverified as a wrong one.
        raise _reject(state, slug, str(exc), "invalid_signature") from None
    return provider


def _parse(provider: Provider, headers: Mapping[str, str], body: bytes) -> list[VendorSyncRequest]:
    try:
        return provider.parse_webhook(headers, body)
    except WebhookPayloadError as exc:
        raise InvalidRequestError(
            f"webhook body not understood: {exc}", code="invalid_webhook"
        ) from None
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        log.warning(
            "webhook body not understood (%s)",
            type(exc).__name__,
            extra={"provider": provider.slug},
        )
        raise InvalidRequestError("webhook body not understood", code="invalid_webhook") from None


def _first_delivery(
    state: AppState, provider: Provider, headers: Mapping[str, str], body: bytes
) -> str | None:
    """The Redis key now marking this delivery as seen, or None when it was seen already."""
    key = state.redis.key("webhook_delivery", provider.slug, provider.delivery_key(headers, body))
    ttl = max(1, int(provider.webhook_replay_window_s))
    return key if state.redis.client.set(key, "1", nx=True, ex=ttl) else None


def receive_webhook(
    state: AppState,
    slug: str,
    headers: Mapping[str, str],
    body: bytes,
    url_secret: str | None = None,
) -> WebhookAccepted:
    """Authenticate, parse, de-duplicate, and record one coalesced sync request per linked
    user and record type's days. Nothing is recorded unless every request in it is valid."""
    provider = authenticate(state, slug, headers, body, url_secret)
    requests = _parse(provider, headers, body)
    today = datetime.now(UTC).date()
    ranges: list[DayRange] = []
    for request in requests:
        try:
            ranges.append(check_day_range(*_days(request, today), max_days=MAX_WEBHOOK_DAYS))
        except DayRangeError as exc:
            raise InvalidRequestError(
                f"webhook names days Mirobody cannot sync: {exc}", code="invalid_webhook"
            ) from None
    seen_key = _first_delivery(state, provider, headers, body)
    if seen_key is None:
        state.metrics.provider_pulls.labels(slug, "webhook_duplicate").inc()
        log.info("webhook delivery seen before: ignored", extra={"provider": slug})
        return WebhookAccepted(status="duplicate")
    recorded = False
    try:
        accepted, unknown = _record(state, slug, requests, ranges)
        recorded = True
    finally:
        if not recorded:  # the error goes on to the caller; the vendor's retry must count
            state.redis.client.delete(seen_key)
    state.metrics.provider_pulls.labels(slug, "webhook_accepted").inc(accepted)
    log.info(
        "webhook recorded %d sync request(s), %d unknown user(s)",
        accepted,
        unknown,
        extra={"provider": slug},
    )
    return WebhookAccepted(status="accepted")


def _record(
    state: AppState, slug: str, requests: list[VendorSyncRequest], ranges: list[DayRange]
) -> tuple[int, int]:
    accepted = unknown = 0
    with state.sessions() as session:
        for request, days in zip(requests, ranges, strict=True):
            users = session.scalars(
                select(ProviderConnection.user_id).where(
                    ProviderConnection.provider == slug,
                    ProviderConnection.vendor_user_id == request.vendor_user_id,
                )
            ).all()
            if not users:
                unknown += 1
                continue
            for user_id in users:
                record_sync_request(
                    session,
                    user_id,
                    slug,
                    SyncKind.WEBHOOK,
                    days.start,
                    days.end,
                    "webhook",
                    {
                        "record_type": request.record_type,
                        "object_id": request.object_id,
                        "event": request.event,
                    },
                )
                accepted += 1
        session.commit()
    return accepted, unknown


def verification_challenge(state: AppState, slug: str, params: Mapping[str, str]) -> dict[str, str]:
    """A vendor's subscription check (Oura's GET with verification_token and challenge)."""
    provider = enabled_provider(state, slug)
    answer = getattr(provider, "verification_challenge", None)
    if answer is None:
        raise InvalidRequestError(f"{slug} sends no subscription challenge", code="no_challenge")
    try:
        result: dict[str, str] = answer(params)
    except WebhookVerificationError:
        raise _reject(state, slug, "wrong verification token", "invalid_signature") from None
    except (WebhookPayloadError, KeyError, ValueError):
        raise InvalidRequestError(
            "subscription check without a challenge", code="invalid_webhook"
        ) from None
    return result
