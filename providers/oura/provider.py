"""Oura API v2: OAuth 2.0 with single-use refresh tokens, `{data, next_token}` collections,
webhooks signed hex(HMAC-SHA256(timestamp + body, client_secret))."""

from __future__ import annotations

import hmac
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

import httpx

from providers.base import Identity, Provider
from providers.errors import VendorHTTPError, WebhookPayloadError, WebhookVerificationError
from providers.formatting import RecordMapping
from providers.http import VendorClient
from providers.oauth import OAuth2Config
from providers.oura.mapping import MAPPINGS
from providers.types import AuthKind, Connection, ProviderInfo, SyncRequest, Tokens, Window
from providers.webhooks import check_fresh, compare_hex, hmac_sha256, require

# Webhook data types spelled differently from their collection path.
WEBHOOK_DATA_TYPES = {"vo2_max": "vO2_max"}


class OuraProvider(Provider):
    """Oura ring: daily activity, sleep periods, daily scores, SpO2, heart rate, workouts,
    mindfulness sessions, daily stress, VO2max, cardiovascular age and the body profile."""

    info = ProviderInfo(
        slug="oura",
        display_name="Oura",
        auth_kind=AuthKind.OAUTH2,
        scopes=(
            "email",
            "personal",
            "daily",
            "heartrate",
            "workout",
            "session",
            "spo2",
            "stress",
            "heart_health",
        ),
        record_types=(
            "daily_activity",
            "sleep",
            "daily_sleep",
            "daily_readiness",
            "daily_spo2",
            "heartrate",
            "workout",
            "session",
            "daily_stress",
            "vO2_max",
            "daily_cardiovascular_age",
            "personal_info",
        ),
        supports_webhooks=True,
    )
    # A ring: first for sleep and skin temperature.
    priority_ranks: ClassVar[Mapping[str, int]] = {
        "*": 30,
        "sleep": 10,
        "recovery": 20,
        "body": 50,
        "temperature": 10,
    }
    default_urls: ClassVar[Mapping[str, str]] = {
        "authorize": "https://cloud.ouraring.com/oauth/authorize",
        "token": "https://api.ouraring.com/oauth/token",
        "revoke": "https://api.ouraring.com/oauth/revoke",
        "api": "https://api.ouraring.com/v2/usercollection",
    }
    mappings: ClassVar[Mapping[str, RecordMapping]] = MAPPINGS

    def oauth_config(self) -> OAuth2Config:
        return OAuth2Config(self.url("authorize"), self.url("token"), scopes=self.info.scopes)

    async def vendor_user_id(self, tokens: Tokens) -> str | None:
        return str((await self.bearer_get(self.url("api") + "/personal_info", tokens))["id"])

    async def revoke(self, connection: Connection) -> None:
        async with httpx.AsyncClient(timeout=self.policy.timeout_s) as http:
            response = await http.post(
                self.url("revoke"), params={"access_token": connection.tokens.access_token}
            )
        if response.status_code >= 400:
            raise VendorHTTPError(self.slug, "revoke refused", response.status_code)

    async def fetch(
        self, client: VendorClient, record_type: str, window: Window
    ) -> AsyncIterator[dict[str, Any]]:
        url = f"{self.url('api')}/{record_type}"
        if record_type == "personal_info":  # one document, not a collection
            yield await client.get_json(url)
            return
        if record_type == "heartrate":
            async for day in self._heartrate_days(client, url, window):
                yield day
            return
        last = (window.end - timedelta(microseconds=1)).date()  # both bounds are inclusive
        params = {"start_date": window.start.date().isoformat(), "end_date": last.isoformat()}
        async for doc in self._pages(client, url, record_type, params):
            yield doc

    async def _pages(
        self, client: VendorClient, url: str, record_type: str, params: dict[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        while True:
            page = await client.get_json(url, params=params)
            for doc in page["data"]:
                yield doc
            if not page.get("next_token"):
                return
            if page["next_token"] == params.get("next_token"):
                raise VendorHTTPError(self.slug, f"{record_type}: next_token repeats itself")
            params["next_token"] = page["next_token"]

    async def _heartrate_days(
        self, client: VendorClient, url: str, window: Window
    ) -> AsyncIterator[dict[str, Any]]:
        """Heart-rate rows as one document per day: `{"day", "data": [rows as sent]}`.

        A row per 5 minutes would be ~288 raw records per user-day; a day document is one,
        and an unchanged day re-pulled is the same content (deduplicated by the raw store).
        Days are the person's local days (the connection's zone history; UTC days when no
        zone is known): the rows are UTC instants. Whole local days are requested, and rows
        outside them dropped (an inclusive end bound must not make a one-row document), so
        every day document is the complete day as the vendor has it now: a later pull of a
        grown day supersedes it as the latest version.
        """
        zones = client.connection.zones
        first = window.start.astimezone(UTC).date()
        last = (window.end - timedelta(microseconds=1)).astimezone(UTC).date()
        start, end = zones.midnight(first), zones.midnight(last + timedelta(days=1))
        params = {"start_datetime": start.isoformat(), "end_datetime": end.isoformat()}
        by_day: dict[date, list[tuple[datetime, dict[str, Any]]]] = defaultdict(list)
        async for row in self._pages(client, url, "heartrate", params):
            stamp = datetime.fromisoformat(row["timestamp"]).astimezone(UTC)
            if start <= stamp < end:
                by_day[zones.local_day(stamp)].append((stamp, row))
        for day in sorted(by_day):
            rows = sorted(by_day[day], key=lambda pair: pair[0])
            yield {"day": day.isoformat(), "data": [row for _, row in rows]}

    async def fetch_requested(
        self, client: VendorClient, request: SyncRequest
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Webhooks only notify: fetch the one document they name. Heart rate and the
        profile have no documents by id: they are fetched over the request's window or day."""
        if request.record_type in ("heartrate", "personal_info"):
            async for pair in super().fetch_requested(client, request):
                yield pair
            return
        if request.event == "delete" or request.object_id is None:
            return
        if request.record_type not in self.mappings:
            return  # a data type this provider does not pull (tags, rest mode...)
        doc = await client.get_json(f"{self.url('api')}/{request.record_type}/{request.object_id}")
        if doc is not None:
            yield request.record_type, doc

    def identify(self, record_type: str, doc: Mapping[str, Any]) -> Identity:
        if record_type == "heartrate":  # a day document (see _heartrate_days)
            return Identity(f"heartrate:{doc['day']}", None, date.fromisoformat(doc["day"]))
        if record_type == "personal_info":  # no time of its own: dated when pulled
            return Identity(str(doc["id"]), None, datetime.now(UTC).date())
        meta = doc.get("meta") or {}
        version = meta.get("version", meta.get("updated_at"))
        return Identity(
            str(doc["id"]),
            None if version is None else str(version),
            date.fromisoformat(doc["day"]),
        )

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, now: float | None = None
    ) -> None:
        signature = require(self.slug, headers, "x-oura-signature")
        timestamp = require(self.slug, headers, "x-oura-timestamp")
        compare_hex(
            self.slug,
            hmac_sha256(self.settings.client_secret, timestamp.encode() + body),
            signature,
        )
        check_fresh(self.slug, float(timestamp), now)

    def verification_challenge(self, params: Mapping[str, str]) -> dict[str, str]:
        """Answer Oura's GET handshake when a subscription is created: echo the challenge
        once the verification token (`options["verification_token"]`) matches."""
        expected = str(self.settings.options.get("verification_token", ""))
        given = params.get("verification_token", "")
        if not expected or not hmac.compare_digest(expected, given):
            raise WebhookVerificationError(self.slug, "wrong verification token")
        if not params.get("challenge"):
            raise WebhookPayloadError(self.slug, "handshake without a challenge")
        return {"challenge": params["challenge"]}

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[SyncRequest]:
        try:
            doc = json.loads(body)
            data_type = WEBHOOK_DATA_TYPES.get(str(doc["data_type"]), str(doc["data_type"]))
            request = SyncRequest(
                self.slug,
                str(doc["user_id"]),
                data_type,
                object_id=str(doc["object_id"]),
                event=str(doc["event_type"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookPayloadError(self.slug, f"unexpected body: {type(exc).__name__}") from None
        return [request]
