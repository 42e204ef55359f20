"""Webhook signature checks shared by the vendors that sign (HMAC over body or ts + body)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping

from providers.errors import WebhookVerificationError

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
