"""WHOOP Developer API v2: OAuth 2.0 (no PKCE, `offline` scope for a refresh token),
`{records, next_token}` pages, webhooks signed base64(HMAC-SHA256(ts_ms + body))."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

import polars as pl

from indicators.timeutils import iso_utc_expr, offset_seconds_expr
from providers.anchors import Anchors
from providers.base import Identity, Provider
from providers.errors import VendorHTTPError, WebhookPayloadError
from providers.formatting import RecordMapping
from providers.http import VendorClient
from providers.oauth import OAuth2Config
from providers.types import AuthKind, Connection, ProviderInfo, SyncRequest, Tokens, Window
from providers.webhooks import check_fresh, compare_b64, hmac_sha256, require
from providers.whoop import mapping as m

_S = pl.String()
_COLLECTIONS = {
    "cycle": "/developer/v2/cycle",
    "recovery": "/developer/v2/recovery",
    "sleep": "/developer/v2/activity/sleep",
    "workout": "/developer/v2/activity/workout",
}


def _date_by_sleep(flat: pl.LazyFrame, raw: pl.DataFrame) -> pl.LazyFrame:
    """Recovery rows get the end and offset of the sleep they belong to (same frame)."""
    sleeps = (
        raw.lazy()
        .filter(pl.col("record_type") == "sleep")
        .select(
            "user_id",
            pl.col("payload")
            .str.json_decode(pl.Struct({"id": _S, "end": _S, "timezone_offset": _S}))
            .alias("s"),
        )
        .select(
            "user_id",
            pl.col("s").struct.field("id").alias("sleep_id"),
            pl.col("s").struct.field("end").alias("_sleep_end"),
            pl.col("s").struct.field("timezone_offset").alias("_sleep_tz"),
        )
        .unique(["user_id", "sleep_id"])
    )
    return flat.join(sleeps, on=["user_id", "sleep_id"], how="left")


RECOVERY = RecordMapping(
    record_type="recovery",
    paths={"sleep_id": _S, "score_state": _S},
    prepare=_date_by_sleep,
    anchors=Anchors(("sleep",), id_path="sleep_id"),  # outside the batch: from storage
    time=iso_utc_expr("_sleep_end"),
    tz_offset_s=offset_seconds_expr("_sleep_tz"),
    keep=m.SCORED,
    fields=m.RECOVERY_FIELDS,
    ignored=m.RECOVERY_IGNORED,
)


class WhoopProvider(Provider):
    """WHOOP: cycles, recovery, sleep, workouts and body measurements."""

    info = ProviderInfo(
        slug="whoop",
        display_name="WHOOP",
        auth_kind=AuthKind.OAUTH2,
        scopes=(
            "offline",
            "read:recovery",
            "read:cycles",
            "read:workout",
            "read:sleep",
            "read:profile",
            "read:body_measurement",
        ),
        record_types=("sleep", "recovery", "cycle", "workout", "body"),
        supports_webhooks=True,
    )
    # A strap made for recovery: first there, second for sleep and temperature.
    priority_ranks: ClassVar[Mapping[str, int]] = {
        "*": 40,
        "sleep": 20,
        "recovery": 10,
        "body": 60,
        "temperature": 20,
    }
    default_urls: ClassVar[Mapping[str, str]] = {
        "authorize": "https://api.prod.whoop.com/oauth/oauth2/auth",
        "token": "https://api.prod.whoop.com/oauth/oauth2/token",
        "api": "https://api.prod.whoop.com/developer",
    }
    mappings: ClassVar[Mapping[str, RecordMapping]] = {
        "cycle": m.CYCLE,
        "sleep": m.SLEEP,
        "workout": m.WORKOUT,
        "recovery": RECOVERY,
        "body": m.BODY,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sleep_days: dict[str, date] = {}  # sleep id -> local wake-up day

    def oauth_config(self) -> OAuth2Config:
        return OAuth2Config(self.url("authorize"), self.url("token"), scopes=self.info.scopes)

    async def vendor_user_id(self, tokens: Tokens) -> str | None:
        profile = await self.bearer_get(self.url("api") + "/v2/user/profile/basic", tokens)
        return str(profile["user_id"])

    async def revoke(self, connection: Connection) -> None:
        import httpx

        async with httpx.AsyncClient(timeout=self.policy.timeout_s) as http:
            response = await http.delete(
                self.url("api") + "/v2/user/access",
                headers={"Authorization": f"Bearer {connection.tokens.access_token}"},
            )
        if response.status_code >= 400 and response.status_code not in (204, 401):
            raise VendorHTTPError(self.slug, "revoke refused", response.status_code)

    async def fetch(
        self, client: VendorClient, record_type: str, window: Window
    ) -> AsyncIterator[dict[str, Any]]:
        if record_type == "body":
            yield await client.get_json(self.url("api") + "/v2/user/measurement/body")
            return
        # Sleeps start up to a day before the recovery/cycle they date, so widen by a day.
        params: dict[str, Any] = {
            "start": (window.start - timedelta(days=1)).isoformat(),
            "end": window.end.isoformat(),
            "limit": 25,
        }
        url = self.url("api") + _COLLECTIONS[record_type].removeprefix("/developer")
        while True:
            page = await client.get_json(url, params=params)
            for doc in page.get("records", []):
                yield doc
            token = page.get("next_token")
            if not token:
                return
            if token == params.get("nextToken"):
                raise VendorHTTPError(self.slug, f"{record_type}: next_token repeats itself")
            params["nextToken"] = token

    async def fetch_requested(
        self, client: VendorClient, request: SyncRequest
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Webhooks only notify: re-fetch the object. v2 recovery events carry the sleep's
        UUID, so the sleep is fetched, then its cycle's recovery (dated by that sleep)."""
        if request.event == "deleted" or request.object_id is None:
            return
        api = self.url("api")
        if request.record_type == "workout":
            yield "workout", await client.get_json(f"{api}/v2/activity/workout/{request.object_id}")
            return
        sleep = await client.get_json(f"{api}/v2/activity/sleep/{request.object_id}")
        if sleep is None:
            return
        yield "sleep", sleep
        if request.record_type == "recovery":
            recovery = await client.get_json(f"{api}/v2/cycle/{sleep['cycle_id']}/recovery")
            if recovery is not None:
                yield "recovery", recovery

    def identify(self, record_type: str, doc: Mapping[str, Any]) -> Identity:
        if record_type == "body":
            return Identity("body", None, datetime.now(UTC).date())
        if record_type == "recovery":
            # dated by its sleep (pulled first), so both land in the same day's partition
            day = self._sleep_days.get(str(doc["sleep_id"]))
            if day is None:
                day = datetime.fromisoformat(doc["created_at"].replace("Z", "+00:00")).date()
            return Identity(str(doc["sleep_id"]), doc.get("updated_at"), day)
        stamp = doc.get("end") or doc["start"]
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        offset = doc.get("timezone_offset")
        if offset and offset != "Z":
            sign = -1 if offset.startswith("-") else 1
            hours, minutes = offset[1:].split(":")
            when += sign * timedelta(hours=int(hours), minutes=int(minutes))
        if record_type == "sleep":
            if len(self._sleep_days) > 50_000:  # a cache, not a store
                self._sleep_days.clear()
            self._sleep_days[str(doc["id"])] = when.date()
        return Identity(str(doc["id"]), doc.get("updated_at"), when.date())

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, now: float | None = None
    ) -> None:
        signature = require(self.slug, headers, "X-WHOOP-Signature")
        timestamp = require(self.slug, headers, "X-WHOOP-Signature-Timestamp")
        expected = hmac_sha256(self.settings.client_secret, timestamp.encode() + body)
        compare_b64(self.slug, expected, signature)
        check_fresh(self.slug, int(timestamp) / 1000, now)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[SyncRequest]:
        try:
            doc = json.loads(body)
            kind, event = str(doc["type"]).split(".", 1)
            user = str(doc["user_id"])
            object_id = str(doc["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookPayloadError(self.slug, f"unexpected body: {type(exc).__name__}") from None
        if kind not in ("sleep", "workout", "recovery"):
            raise WebhookPayloadError(self.slug, f"unknown event type {kind!r}")
        return [SyncRequest(self.slug, user, kind, object_id=object_id, event=event)]
