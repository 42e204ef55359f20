"""Garmin Health API: OAuth 2.0 with PKCE (required), rotating refresh tokens; summaries by
upload window (24 h at most per call); PUSH webhooks carry the summaries inline, unsigned."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

import httpx
import polars as pl

from providers.base import Identity, Provider, maybe_client
from providers.errors import (
    OAuthFlowError,
    UnknownPayloadShapeError,
    VendorHTTPError,
    WebhookPayloadError,
    WebhookVerificationError,
)
from providers.formatting import RecordMapping
from providers.garmin.mapping import MAPPINGS
from providers.http import Outcome, VendorClient, default_classify
from providers.oauth import OAuth1Config, OAuth1Strategy, OAuth2Config
from providers.raw import raw_frame
from providers.types import (
    AuthKind,
    Connection,
    LinkResult,
    ProviderInfo,
    SyncRequest,
    Tokens,
    TokenStore,
    WebhookAuth,
    Window,
)
from providers.webhooks import header

# push key -> record type (the backfill/pull path names respiration differently)
PUSH_KEYS = {
    "dailies": "dailies",
    "epochs": "epochs",
    "sleeps": "sleeps",
    "hrv": "hrv",
    "bodyComps": "bodyComps",
    "pulseox": "pulseox",
    "allDayRespiration": "respiration",
    "skinTemp": "skinTemp",
    "stressDetails": "stressDetails",
    "activities": "activities",
    "userMetrics": "userMetrics",
    "bloodPressures": "bloodPressures",
    "healthSnapshot": "healthSnapshot",
}
LIFECYCLE_KEYS = {"deregistrations", "userPermissionsChange"}


def _local_day(doc: Mapping[str, Any]) -> date | None:
    """The summary's local day: its calendarDate, else its start (or measurement) time
    shifted by its offset (epochs, bodyComps, bloodPressures, respiration have no date)."""
    if doc.get("calendarDate"):
        return date.fromisoformat(doc["calendarDate"])
    start = doc.get("startTimeInSeconds", doc.get("measurementTimeInSeconds"))
    if start is None:
        return None
    offset = doc.get("startTimeOffsetInSeconds", doc.get("measurementTimeOffsetInSeconds"))
    return datetime.fromtimestamp(int(start) + int(offset or 0), UTC).date()


class GarminProvider(Provider):
    """Garmin Connect: daily summaries and their 15-minute epochs, sleep and naps, HRV, body
    composition, blood pressure, SpO2, respiration, skin temperature, stress, Health
    Snapshots and activities."""

    info = ProviderInfo(
        slug="garmin",
        display_name="Garmin",
        auth_kind=AuthKind.OAUTH2_PKCE,
        scopes=(),
        record_types=tuple(PUSH_KEYS.values()),
        supports_webhooks=True,
        webhook_auth=WebhookAuth.URL_SECRET,
    )
    # A watch: first for activity and the "*" rest; its 15-minute epochs (garmin.epochs)
    # re-count what its dailies total, so the day's own total wins over the epochs.
    priority_ranks: ClassVar[Mapping[str, int]] = {
        "*": 10,
        "sleep": 30,
        "recovery": 30,
        "body": 20,
        "blood_pressure": 20,
        "temperature": 40,
    }
    source_priorities: ClassVar[tuple[str, ...]] = ("garmin", "garmin.epochs")
    # Garmin retries failed pushes; remember deliveries for a day.
    webhook_replay_window_s: ClassVar[float] = 86_400.0
    default_urls: ClassVar[Mapping[str, str]] = {
        "authorize": "https://connect.garmin.com/oauth2Confirm",
        "token": "https://diauth.garmin.com/di-oauth2-service/oauth/token",
        "api": "https://apis.garmin.com/wellness-api/rest",
        "oauth1_request_token": "https://connectapi.garmin.com/oauth-service/oauth/request_token",
        "oauth1_authorize": "https://connect.garmin.com/oauthConfirm",
        "oauth1_access_token": "https://connectapi.garmin.com/oauth-service/oauth/access_token",
    }
    mappings: ClassVar[Mapping[str, RecordMapping]] = MAPPINGS

    def oauth_config(self) -> OAuth2Config:
        return OAuth2Config(self.url("authorize"), self.url("token"), pkce=True)

    def legacy_oauth(self) -> OAuth1Strategy:
        """OAuth 1.0a (retiring 2026-12-31): for connections made before the PKCE flow."""
        return OAuth1Strategy(
            self.slug,
            self.settings,
            OAuth1Config(
                self.url("oauth1_request_token"),
                self.url("oauth1_authorize"),
                self.url("oauth1_access_token"),
            ),
            timeout=self.policy.timeout_s,
        )

    async def complete_legacy_link(
        self, params: Mapping[str, str], expected_state: str, request_token: Mapping[str, str]
    ) -> LinkResult:
        """Finish an OAuth 1.0a link from the callback's query (oauth_token, oauth_verifier)."""
        if params.get("state") != expected_state:
            raise OAuthFlowError(self.slug, "state mismatch on callback", "invalid_state")
        if params.get("oauth_token") != request_token.get("oauth_token"):
            raise OAuthFlowError(self.slug, "callback for another request token")
        tokens = await self.legacy_oauth().exchange(request_token, params["oauth_verifier"])
        async with httpx.AsyncClient(timeout=self.policy.timeout_s) as http:
            response = await http.get(
                self.url("api") + "/user/id", auth=self.legacy_oauth().auth(tokens)
            )
        if response.status_code != 200:
            raise OAuthFlowError(self.slug, f"user id look-up failed ({response.status_code})")
        return LinkResult(tokens, str(response.json()["userId"]))

    def request_auth(self, tokens: Tokens) -> Callable[[Tokens], httpx.Auth] | None:
        if tokens.token_type == "oauth1":  # noqa: S105 (a token kind)
            return self.legacy_oauth().auth
        return None

    async def vendor_user_id(self, tokens: Tokens) -> str | None:
        return str((await self.bearer_get(self.url("api") + "/user/id", tokens))["userId"])

    async def revoke(self, connection: Connection) -> None:
        async with httpx.AsyncClient(timeout=self.policy.timeout_s) as http:
            response = await http.delete(
                self.url("api") + "/user/registration",
                headers={"Authorization": f"Bearer {connection.tokens.access_token}"},
            )
        if response.status_code >= 400 and response.status_code not in (204, 401):
            raise VendorHTTPError(self.slug, "revoke refused", response.status_code)

    async def fetch(
        self, client: VendorClient, record_type: str, window: Window
    ) -> AsyncIterator[dict[str, Any]]:
        # The pull filters on upload time: summaries of the window's last day arrive after it.
        start = int(window.start.timestamp())
        end = int((window.end + timedelta(days=1)).timestamp())
        for lo in range(start, end, 86400):
            params = {
                "uploadStartTimeInSeconds": lo,
                "uploadEndTimeInSeconds": min(lo + 86400, end),
            }
            for doc in await client.get_json(f"{self.url('api')}/{record_type}", params=params):
                yield doc

    async def request_backfill(
        self,
        connection: Connection,
        window: Window,
        token_store: TokenStore,
        record_types: tuple[str, ...] = (),
        http: httpx.AsyncClient | None = None,
    ) -> dict[str, int]:
        """Ask Garmin to push history (<= 30 days per call) through the webhooks.

        Returns the status per record type: 202 accepted, 409 already requested."""
        statuses: dict[str, int] = {}
        async with maybe_client(http) as session:
            client = self.client(session, connection, token_store)
            for record_type in record_types or self.info.record_types:
                backfill_type = "pulseOx" if record_type == "pulseox" else record_type
                response = await client.request(
                    "GET",
                    f"{self.url('api')}/backfill/{backfill_type}",
                    params={
                        "summaryStartTimeInSeconds": int(window.start.timestamp()),
                        "summaryEndTimeInSeconds": int(window.end.timestamp()),
                    },
                )
                statuses[record_type] = response.status_code
        return statuses

    def classify(self, response: httpx.Response) -> Outcome:
        if response.status_code == 409:  # a backfill asked for twice: an answer, not a failure
            return Outcome.OK
        return default_classify(response)

    def identify(self, record_type: str, doc: Mapping[str, Any]) -> Identity:
        day = _local_day(doc)
        if day is None:
            raise UnknownPayloadShapeError(
                self.slug, record_type, f"summary {doc.get('summaryId')} has no date or time"
            )
        version = doc.get("validation")  # TENTATIVE -> FINAL re-deliveries
        return Identity(str(doc["summaryId"]), version, day)

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, now: float | None = None
    ) -> None:
        # Garmin signs nothing: authenticity comes from the secret push URL (checked by the
        # API before this); the client id header must still be ours.
        if header(headers, "garmin-client-id") != self.settings.client_id:
            raise WebhookVerificationError(self.slug, "missing or wrong garmin-client-id")

    def _push_items(self, body: bytes) -> dict[str, list[dict[str, Any]]]:
        try:
            doc = json.loads(body)
        except ValueError:
            raise WebhookPayloadError(self.slug, "body is not JSON") from None
        if not isinstance(doc, dict):
            raise WebhookPayloadError(self.slug, "body is not an object")
        unknown = set(doc) - set(PUSH_KEYS) - LIFECYCLE_KEYS
        if unknown:
            raise WebhookPayloadError(self.slug, f"unknown summary keys {sorted(unknown)}")
        return {k: v for k, v in doc.items() if k in PUSH_KEYS}

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[SyncRequest]:
        """One request per PING item (its callback URL); PUSH items, one request per user,
        summary type and local day (a backfill pushes ~100 epochs a day)."""
        requests: dict[tuple[str, str, date | None, str | None], SyncRequest] = {}
        for key, items in self._push_items(body).items():
            for item in items:
                user, record_type = str(item["userId"]), PUSH_KEYS[key]
                if "callbackURL" in item:  # PING: the URL to fetch instead of the summary
                    requests[user, record_type, None, item["callbackURL"]] = SyncRequest(
                        self.slug, user, record_type, object_id=item["callbackURL"], event="ping"
                    )
                    continue
                day = _local_day(item)
                known = requests.get((user, record_type, day, None))
                requests[user, record_type, day, None] = SyncRequest(
                    self.slug,
                    user,
                    record_type,
                    day=day,
                    event="push",
                    object_id=None if known else item.get("summaryId"),
                )
        return list(requests.values())

    async def fetch_requested(
        self, client: VendorClient, request: SyncRequest
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """PING: fetch the callback URL (only on Garmin's own API host); otherwise by day."""
        if request.event != "ping" or not request.object_id:
            async for item in super().fetch_requested(client, request):
                yield item
            return
        url = httpx.URL(request.object_id)
        api = httpx.URL(self.url("api"))
        if (url.scheme, url.host, url.port) != (api.scheme, api.host, api.port) or not (
            url.path.startswith(api.path)
        ):
            raise WebhookPayloadError(self.slug, "callbackURL is not on the Garmin API host")
        for doc in await client.get_json(str(url)):
            yield request.record_type, doc

    def push_records(self, connection: Connection, body: bytes) -> pl.DataFrame:
        """PUSH mode: the summaries inline in a verified webhook, as raw records."""
        return raw_frame(
            self.record(connection, PUSH_KEYS[key], item)
            for key, items in self._push_items(body).items()
            for item in items
            if "callbackURL" not in item
        )
