"""Fitbit Web API: OAuth 2.0 with PKCE (HTTP Basic client authentication, single-use refresh
tokens, the user id in the token answer), date-range collections, the activity log list paged
by `pagination.next`, `Fitbit-Rate-Limit-*` headers, and subscriptions whose notifications are
signed base64(HMAC-SHA1(body, client_secret + "&")) in `X-Fitbit-Signature`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import date, timedelta
from typing import Any, ClassVar

import httpx

from providers.base import Identity, Provider
from providers.errors import VendorHTTPError, WebhookPayloadError, WebhookVerificationError
from providers.fitbit.client import FitbitClient
from providers.fitbit.mapping import MAPPINGS, OFFSET
from providers.formatting import RecordMapping
from providers.http import VendorClient
from providers.oauth import OAuth2Config
from providers.types import (
    AuthKind,
    Connection,
    LinkResult,
    ProviderInfo,
    SyncRequest,
    Tokens,
    TokenStore,
    Window,
)
from providers.webhooks import require

log = logging.getLogger(__name__)

# Collections asked for by date range, and the longest range each endpoint accepts.
RANGES: dict[str, tuple[str, str, int]] = {  # record type: (path, answer key, max days)
    "sleep": ("/1.2/user/-/sleep/date/{start}/{end}.json", "sleep", 100),
    "heart": ("/1/user/-/activities/heart/date/{start}/{end}.json", "activities-heart", 365),
    "hrv": ("/1/user/-/hrv/date/{start}/{end}.json", "hrv", 30),
    "spo2": ("/1/user/-/spo2/date/{start}/{end}.json", "", 30),  # a bare array
    "br": ("/1/user/-/br/date/{start}/{end}.json", "br", 30),
    "temp_skin": ("/1/user/-/temp/skin/date/{start}/{end}.json", "tempSkin", 30),
    "weight": ("/1/user/-/body/log/weight/date/{start}/{end}.json", "weight", 31),
}
# Documents whose local times carry no offset get the profile's (see mapping).
NAIVE_LOCAL = {
    "sleep",
    "activities",
    "heart",
    "heart_intraday",
    "hrv",
    "spo2",
    "br",
    "temp_skin",
    "weight",
}
# What a subscription notification's collection asks to pull again.
COLLECTIONS = {
    "activities": ("activities", "heart", "heart_intraday", "workout"),
    "sleep": ("sleep", "hrv", "spo2", "br", "temp_skin"),
    "body": ("weight",),
}
PAGE = 100


def _day_ranges(window: Window, max_days: int) -> list[tuple[date, date]]:
    days = window.days()
    return [
        (days[i], days[min(i + max_days, len(days)) - 1]) for i in range(0, len(days), max_days)
    ]


class FitbitProvider(Provider):
    """Fitbit trackers and watches: daily activity, sleep stages, resting and intraday heart
    rate, HRV, SpO2, breathing rate, skin temperature, weight and body fat, and exercises."""

    info = ProviderInfo(
        slug="fitbit",
        display_name="Fitbit",
        auth_kind=AuthKind.OAUTH2_PKCE,
        scopes=(
            "activity",
            "heartrate",
            "sleep",
            "weight",
            "oxygen_saturation",
            "respiratory_rate",
            "temperature",
            "profile",
        ),
        record_types=tuple(MAPPINGS),
        supports_webhooks=True,
    )
    default_urls: ClassVar[Mapping[str, str]] = {
        "authorize": "https://www.fitbit.com/oauth2/authorize",
        "token": "https://api.fitbit.com/oauth2/token",
        "revoke": "https://api.fitbit.com/oauth2/revoke",
        "api": "https://api.fitbit.com",
    }
    mappings: ClassVar[Mapping[str, RecordMapping]] = MAPPINGS
    priority_ranks: ClassVar[Mapping[str, int]] = {
        "*": 55,
        "sleep": 55,
        "recovery": 55,
        "body": 25,
        "temperature": 55,
    }

    def oauth_config(self) -> OAuth2Config:
        return OAuth2Config(
            self.url("authorize"),
            self.url("token"),
            scopes=self.info.scopes,
            pkce=True,
            token_auth_method="client_secret_basic",  # noqa: S106 (a method name)
        )

    async def complete_link(self, **kwargs: Any) -> LinkResult:
        """Exchange the code, then subscribe to the user's collections (their notifications
        come to the subscriber endpoint; a refused subscription leaves polling, logged)."""
        result = await super().complete_link(**kwargs)
        sub_id = f"mirobody-{result.vendor_user_id}"
        async with httpx.AsyncClient(timeout=self.policy.timeout_s) as http:
            response = await http.post(
                f"{self.api()}/1/user/-/apiSubscriptions/{sub_id}.json",
                headers={"Authorization": f"Bearer {result.tokens.access_token}"},
            )
        if response.status_code not in (200, 201, 409):
            log.warning(
                "fitbit: subscription for %s refused (%d): pulls only",
                result.vendor_user_id,
                response.status_code,
            )
        return result

    async def vendor_user_id(self, tokens: Tokens) -> str | None:
        """The encoded user id comes with the token answer."""
        user = tokens.extra.get("user_id")
        return None if user is None else str(user)

    async def revoke(self, connection: Connection) -> None:
        """Remove the subscription (best effort: the grant ends anyway), then the grant."""
        async with httpx.AsyncClient(timeout=self.policy.timeout_s) as http:
            sub = await http.delete(
                f"{self.api()}/1/user/-/apiSubscriptions/mirobody-{connection.vendor_user_id}.json",
                headers={"Authorization": f"Bearer {connection.tokens.access_token}"},
            )
            if sub.status_code not in (204, 404):
                log.warning("fitbit: subscription not removed (%d)", sub.status_code)
            response = await http.post(
                self.url("revoke"),
                data={"token": connection.tokens.access_token},
                auth=(self.settings.client_id, self.settings.client_secret),
            )
        if response.status_code >= 400:
            raise VendorHTTPError(self.slug, "revoke refused", response.status_code)

    def client(
        self, http: httpx.AsyncClient, connection: Connection, token_store: TokenStore
    ) -> VendorClient:
        return FitbitClient(
            self.slug,
            http,
            connection,
            token_store,
            self.refresh,
            policy=self.policy,
            classify=self.classify,
            sleep=self._sleep,
        )

    def api(self) -> str:
        """The API's base (no trailing slash: paths start with their version, /1 or /1.2)."""
        return self.url("api").rstrip("/")

    async def _offset_ms(self, client: VendorClient) -> float:
        """The profile's offset from UTC, asked once per pull (150 requests an hour)."""
        cached = getattr(client, "offset_ms", None)
        if cached is not None:
            return float(cached)
        profile = await client.get_json(self.api() + "/1/user/-/profile.json")
        offset = float(profile["user"].get("offsetFromUTCMillis") or 0)
        if isinstance(client, FitbitClient):
            client.offset_ms = offset
        return offset

    async def fetch(
        self, client: VendorClient, record_type: str, window: Window
    ) -> AsyncIterator[dict[str, Any]]:
        offset = await self._offset_ms(client) if record_type in NAIVE_LOCAL else None
        async for doc in self._documents(client, record_type, window):
            yield doc if offset is None else {**doc, OFFSET: offset}

    async def _documents(
        self, client: VendorClient, record_type: str, window: Window
    ) -> AsyncIterator[dict[str, Any]]:
        api = self.api()
        if record_type in RANGES:
            path, key, max_days = RANGES[record_type]
            for first, last in _day_ranges(window, max_days):
                page = await client.get_json(api + path.format(start=first, end=last))
                for doc in (page if not key else (page or {}).get(key, [])) or []:
                    yield doc
        elif record_type == "activities":
            for day in window.days():
                doc = await client.get_json(f"{api}/1/user/-/activities/date/{day}.json")
                yield {
                    "date": day.isoformat(),
                    "summary": doc["summary"],
                    "goals": doc.get("goals", {}),
                    "activities": doc.get("activities", []),
                }
        elif record_type == "heart_intraday":
            for day in window.days():
                try:
                    doc = await client.get_json(
                        f"{api}/1/user/-/activities/heart/date/{day}/1d/1min.json"
                    )
                except VendorHTTPError as exc:
                    if exc.status_code != 403:
                        raise
                    # Intraday needs Fitbit's approval (personal apps excepted): without it,
                    # the daily collections are pulled and the minutes are not.
                    log.info("fitbit: intraday heart rate not granted to this app (403)")
                    return
                intraday = (doc or {}).get("activities-heart-intraday") or {}
                if intraday.get("dataset"):
                    yield {"date": day.isoformat(), **intraday}
        elif record_type == "workout":
            async for doc in self._workouts(client, window):
                yield doc

    async def _workouts(
        self, client: VendorClient, window: Window
    ) -> AsyncIterator[dict[str, Any]]:
        """The activity log list after the window's first day, ascending, until past it."""
        url: str | None = self.api() + "/1/user/-/activities/list.json"
        params: dict[str, Any] | None = {
            "afterDate": (window.start.date() - timedelta(days=1)).isoformat(),
            "sort": "asc",
            "limit": PAGE,
            "offset": 0,
        }
        last = (window.end - timedelta(microseconds=1)).date().isoformat()
        while url:
            page = await client.get_json(url, params=params)
            for doc in page["activities"]:
                if doc["startTime"][:10] > last:
                    return
                yield doc
            url, params = page["pagination"].get("next") or None, None

    def identify(self, record_type: str, doc: Mapping[str, Any]) -> Identity:
        if record_type == "sleep":
            return Identity(str(doc["logId"]), None, date.fromisoformat(doc["dateOfSleep"]))
        if record_type == "weight":
            return Identity(str(doc["logId"]), None, date.fromisoformat(doc["date"]))
        if record_type == "workout":
            return Identity(
                str(doc["logId"]),
                doc.get("lastModified"),
                date.fromisoformat(doc["startTime"][:10]),
            )
        day = str(doc.get("date") or doc["dateTime"])
        return Identity(f"{record_type}:{day}", None, date.fromisoformat(day))

    # --- subscriptions -----------------------------------------------------------------
    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, now: float | None = None
    ) -> None:
        """X-Fitbit-Signature: base64(HMAC-SHA1(body, client_secret + "&")). Fitbit signs
        no timestamp: replays are caught by the delivery de-duplication."""
        given = require(self.slug, headers, "x-fitbit-signature")
        key = (self.settings.client_secret + "&").encode()
        expected = base64.b64encode(hmac.new(key, body, hashlib.sha1).digest()).decode()
        if not hmac.compare_digest(expected.encode(), given.strip().encode()):
            raise WebhookVerificationError(self.slug, "signature mismatch")

    def verify_subscriber(self, code: str) -> bool:
        """Fitbit's subscriber check: GET ?verify=<code> answers 204 for the configured
        verification code (`options["verification_code"]`), 404 for any other."""
        expected = str(self.settings.options.get("verification_code", ""))
        return bool(expected) and hmac.compare_digest(expected.encode(), code.encode())

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[SyncRequest]:
        try:
            notes = json.loads(body)
            if not isinstance(notes, list):
                raise TypeError("not an array")
            out = []
            for note in notes:
                day = date.fromisoformat(str(note["date"]))
                owner = str(note["ownerId"])
                for record_type in COLLECTIONS.get(str(note["collectionType"]), ()):
                    out.append(
                        SyncRequest(
                            self.slug,
                            owner,
                            record_type,
                            day=day,
                            event=str(note["collectionType"]),
                        )
                    )
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookPayloadError(self.slug, f"unexpected body: {type(exc).__name__}") from None
        return out
