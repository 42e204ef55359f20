"""Webhook signature checks shared by the vendors that sign (HMAC over body or ts + body)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from providers.errors import WebhookPayloadError, WebhookVerificationError

MAX_SKEW_S = 300.0


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup on a plain mapping."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def check_fresh(provider: str, timestamp_s: float, now: float | None = None) -> None:
    if abs((now if now is not None else time.time()) - timestamp_s) > MAX_SKEW_S:
        raise WebhookVerificationError(provider, "webhook timestamp outside the allowed skew")


def require(provider: str, headers: Mapping[str, str], name: str) -> str:
    value = header(headers, name)
    if not value:
        raise WebhookVerificationError(provider, f"missing {name} header")
    return value


def compare_b64(provider: str, expected: bytes, given: str) -> None:
    if not hmac.compare_digest(base64.b64encode(expected).decode(), given.strip()):
        raise WebhookVerificationError(provider, "webhook signature mismatch")


def compare_hex(provider: str, expected: bytes, given: str) -> None:
    if not hmac.compare_digest(expected.hex(), given.strip().lower()):
        raise WebhookVerificationError(provider, "webhook signature mismatch")


# Epoch seconds a webhook may name: 2000-01-01 .. 2100-01-01 UTC. Anything else is not a
# vendor's date but an attempt to make the receiver loop over centuries or overflow.
EPOCH_MIN_S = 946_684_800
EPOCH_MAX_S = 4_102_444_800


def epoch_utc(provider: str, value: object) -> datetime:
    """An epoch-seconds field of a webhook body as a UTC time; WebhookPayloadError when it is
    not an integer or lies outside EPOCH_MIN_S..EPOCH_MAX_S."""
    text = str(value).strip()
    if not text.isdigit() or len(text) > 12 or not EPOCH_MIN_S <= int(text) <= EPOCH_MAX_S:
        raise WebhookPayloadError(provider, f"not an epoch time in range: {text[:40]!r}")
    return datetime.fromtimestamp(int(text), UTC)


def check_sent_at(
    provider: str, sent: str | float | None, max_age_s: float, now: float | None = None
) -> None:
    """Refuse a delivery whose signed send time is missing, older than `max_age_s` or more
    than MAX_SKEW_S in the future (a replay of an old, validly signed body)."""
    if sent is None:
        raise WebhookVerificationError(provider, "webhook body has no timestamp")
    try:
        when = (
            float(sent)
            if isinstance(sent, int | float)
            else datetime.fromisoformat(str(sent).replace("Z", "+00:00")).timestamp()
        )
    except (ValueError, OverflowError):
        raise WebhookVerificationError(provider, "webhook timestamp does not parse") from None
    age = (now if now is not None else time.time()) - when
    if age > max_age_s or age < -MAX_SKEW_S:
        raise WebhookVerificationError(provider, "webhook timestamp outside the allowed skew")
