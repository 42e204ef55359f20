"""Polar AccessLink v3: OAuth 2.0 with HTTP Basic client auth and no refresh token (the access
token is long-lived), mandatory user registration after linking, data for the last ~28 days,
webhooks signed hex(HMAC-SHA256(body, signature_secret_key))."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

import httpx

from providers.base import Identity, Provider
from providers.errors import (
    OAuthFlowError,
    VendorHTTPError,
    WebhookPayloadError,
    WebhookVerificationError,
)
from providers.formatting import RecordMapping
from providers.http import VendorClient
from providers.oauth import OAuth2Config
from providers.polar.biosensing import BIOSENSING
from providers.polar.mapping import MAPPINGS
from providers.types import (
    AuthKind,
    Connection,
    LinkResult,
    ProviderInfo,
    SyncRequest,
    Window,
)
from providers.webhooks import check_sent_at, compare_hex, hmac_sha256, require

_PATHS = {
    "exercises": ("/v3/exercises", None),
    "activities": ("/v3/users/activities", None),
    "sleep": ("/v3/users/sleep", "nights"),
    "nightly-recharge": ("/v3/users/nightly-recharge", "recharges"),
    "physical-info": ("/v3/users/physical-info", None),
    "continuous-heart-rate": ("/v3/users/continuous-heart-rate", "heart_rates"),
    "body-temperature": ("/v3/users/biosensing/bodytemperature", None),
    "skin-temperature": ("/v3/users/biosensing/skintemperature", None),
    "spo2": ("/v3/users/biosensing/spo2", None),
    "ecg": ("/v3/users/biosensing/ecg", None),
}
# Asked for with `from`/`to` (inclusive dates), at most 28 days a call.
RANGED = {
    "activities",
    "continuous-heart-rate",
    "body-temperature",
    "skin-temperature",
    "spo2",
    "ecg",
}
MAX_RANGE_DAYS = 28
EVENTS = {
    "EXERCISE": "exercises",
    "SLEEP": "sleep",
    "ACTIVITY_SUMMARY": "activities",
    "PHYSICAL_INFORMATION": "physical-info",
    "CONTINUOUS_HEART_RATE": "continuous-heart-rate",
    "SLEEP_WISE_CIRCADIAN_BEDTIME": None,
    "SLEEP_WISE_ALERTNESS": None,
}


def _test_day(doc: Mapping[str, Any]) -> date:
    """Local day of a biosensing test (epoch seconds + offset in minutes)."""
    return datetime.fromtimestamp(
        int(doc["test_time"]) + 60 * int(doc.get("time_zone_offset") or 0), UTC
    ).date()


def _doc_day(record_type: str, doc: Mapping[str, Any]) -> date:
    if record_type in ("exercises", "activities"):
        return date.fromisoformat(doc["start_time"][:10])
    if record_type == "physical-info":
        stamp = doc.get("modified") or doc.get("created")
        return (
            datetime.fromisoformat(stamp.replace("Z", "+00:00")).date()
            if stamp
            else (datetime.now(UTC).date())
        )
    if record_type == "body-temperature":
        return date.fromisoformat(doc["end_time"][:10])  # the morning the night ends
    if record_type == "skin-temperature":
        return date.fromisoformat(doc["sleep_date"])
    if record_type in ("spo2", "ecg"):
        return _test_day(doc)
    return date.fromisoformat(doc["date"])


def _vendor_id(record_type: str, doc: Mapping[str, Any], day: date) -> str:
    if doc.get("id"):
        return str(doc["id"])
    if record_type in ("spo2", "ecg"):
        return f"{record_type}:{doc['test_time']}"  # several tests a day
    if record_type == "body-temperature":
        return f"{record_type}:{doc['start_time']}"
    return f"{record_type}:{day.isoformat()}"


def ranges(first: date, last: date) -> list[tuple[date, date]]:
    """first..last (inclusive) cut into spans of at most MAX_RANGE_DAYS days."""
    spans = []
    while first <= last:
        end = min(last, first + timedelta(days=MAX_RANGE_DAYS - 1))
        spans.append((first, end))
        first = end + timedelta(days=1)
    return spans


class PolarProvider(Provider):
    """Polar: exercises, daily activity, sleep, Nightly Recharge, physical info, continuous
    heart rate and Elixir biosensing (body and skin temperature, SpO2 and ECG tests)."""

    info = ProviderInfo(
        slug="polar",
        display_name="Polar",
        auth_kind=AuthKind.OAUTH2,
        scopes=("accesslink.read_all",),
        record_types=tuple(_PATHS),
        supports_webhooks=True,
        has_refresh_token=False,
    )
    # A watch: after Garmin for activity; its skin temperature after the ring and scale.
    priority_ranks: ClassVar[Mapping[str, int]] = {
        "*": 20,
        "sleep": 40,
        "recovery": 40,
        "body": 40,
        "temperature": 50,
    }
    default_urls: ClassVar[Mapping[str, str]] = {
        "authorize": "https://flow.polar.com/oauth2/authorization",
        "token": "https://polarremote.com/v2/oauth2/token",
        "api": "https://www.polaraccesslink.com/v3",
    }
    mappings: ClassVar[Mapping[str, RecordMapping]] = {**MAPPINGS, **BIOSENSING}
    # Polar retries a failing webhook for up to 7 days (then deactivates it): a delivery is
    # accepted while its body's timestamp is under 8 days old and remembered for 8 days + 1 h.
    webhook_replay_window_s: ClassVar[float] = 8 * 86_400.0 + 3600

    def oauth_config(self) -> OAuth2Config:
        return OAuth2Config(
            self.url("authorize"),
            self.url("token"),
            scopes=self.info.scopes,
            token_auth_method="client_secret_basic",  # noqa: S106
        )

    async def complete_link(self, **kwargs: Any) -> LinkResult:
        """Exchange the code, then register the user (409 = already registered)."""
        result = await super().complete_link(**kwargs)
        async with httpx.AsyncClient(timeout=self.policy.timeout_s) as http:
            response = await http.post(
                self.url("api") + "/users",
                json={"member-id": result.vendor_user_id},
                headers={"Authorization": f"Bearer {result.tokens.access_token}"},
            )
        if response.status_code not in (200, 409):
            raise OAuthFlowError(self.slug, f"user registration failed ({response.status_code})")
        return result

    async def vendor_user_id(self, tokens: Any) -> str | None:
        return str(tokens.extra["x_user_id"]) if "x_user_id" in tokens.extra else None

    async def refresh(self, tokens: Any) -> Any:
        raise OAuthFlowError(self.slug, "Polar issues no refresh token: reconnect instead")

    async def revoke(self, connection: Connection) -> None:
        async with httpx.AsyncClient(timeout=self.policy.timeout_s) as http:
            response = await http.delete(
                f"{self.url('api')}/users/{connection.vendor_user_id}",
                headers={"Authorization": f"Bearer {connection.tokens.access_token}"},
            )
        if response.status_code >= 400 and response.status_code not in (204, 401, 404):
            raise VendorHTTPError(self.slug, "revoke refused", response.status_code)

    async def fetch(
        self, client: VendorClient, record_type: str, window: Window
    ) -> AsyncIterator[dict[str, Any]]:
        path, wrapper = _PATHS[record_type]
        last = (window.end - timedelta(microseconds=1)).date()
        spans: list[tuple[date, date] | None] = [None]
        if record_type in RANGED:
            spans = list(ranges(window.start.date(), last))
        for span in spans:
            params = (
                {} if span is None else {"from": span[0].isoformat(), "to": span[1].isoformat()}
            )
            body = await client.get_json(self.url("api") + path.removeprefix("/v3"), params=params)
            if body is None:  # 204/404: nothing in the range (or the last 28 days)
                continue
            docs = (
                [body] if record_type == "physical-info" else (body[wrapper] if wrapper else body)
            )
            for doc in docs:
                # The new endpoints answer for the last ~28 days: keep the window's days.
                if (
                    record_type == "physical-info"
                    or window.start.date() <= _doc_day(record_type, doc) <= last
                ):
                    yield doc

    def identify(self, record_type: str, doc: Mapping[str, Any]) -> Identity:
        day = _doc_day(record_type, doc)
        version = doc.get("upload_time") or doc.get("modified") or doc.get("modified_time")
        return Identity(_vendor_id(record_type, doc, day), version, day)

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, now: float | None = None
    ) -> None:
        secret = self.settings.options.get("webhook_secret")
        if not secret:
            raise WebhookVerificationError(self.slug, "no webhook signing key configured")
        signature = require(self.slug, headers, "Polar-Webhook-Signature")
        compare_hex(self.slug, hmac_sha256(str(secret), body), signature)
        # Polar signs only the body, so the body's own send time bounds how long a captured
        # delivery could be replayed; the receiver remembers deliveries for as long.
        try:
            sent = json.loads(body).get("timestamp")
        except (ValueError, AttributeError):
            raise WebhookVerificationError(self.slug, "webhook body is not a JSON object") from None
        check_sent_at(self.slug, sent, self.webhook_replay_window_s - 3600, now)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[SyncRequest]:
        try:
            doc = json.loads(body)
            event = str(doc["event"])
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookPayloadError(self.slug, f"unexpected body: {type(exc).__name__}") from None
        if event == "PING":
            return []
        if event not in EVENTS:
            raise WebhookPayloadError(self.slug, f"unknown event {event!r}")
        record_type = EVENTS[event]
        if record_type is None:
            return []  # an event for data this provider does not pull
        day = date.fromisoformat(doc["date"]) if doc.get("date") else None
        return [
            SyncRequest(
                self.slug,
                str(doc["user_id"]),
                record_type,
                day=day,
                object_id=doc.get("entity_id"),
                event=event,
            )
        ]
