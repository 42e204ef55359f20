"""Withings Public Health Data API: OAuth 2.0 with `{status, body}` token envelopes and
rotating refresh tokens; form POSTs with `action=`; errors (401, 601) as in-body statuses on
HTTP 200; notifications are unsigned form posts."""

from __future__ import annotations

import hmac
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime, timedelta
from hashlib import sha256
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import httpx

from providers.base import Identity, Provider
from providers.errors import OAuthFlowError, WebhookPayloadError, WebhookVerificationError
from providers.formatting import RecordMapping
from providers.http import Outcome, VendorClient, default_classify
from providers.oauth import OAuth2Config
from providers.types import (
    AuthKind,
    Connection,
    ProviderInfo,
    SyncRequest,
    Tokens,
    WebhookAuth,
    Window,
)
from providers.webhooks import epoch_utc, header
from providers.withings.intraday import INTRADAY, INTRADAY_IGNORED, INTRADAY_SAMPLES
from providers.withings.mapping import MAPPINGS, WORKOUTS
from providers.withings.sleep import SLEEP

_AUTH_FAILED = {100, 101, 102, 200, 401}
# Sleep summaries send only the data fields asked for: every one the mapping reads.
_SLEEP_FIELDS = ",".join(
    dict.fromkeys(
        p.removeprefix("data.")
        for p in (*SLEEP.paths, *(f.path for f in SLEEP.fields))
        if p.startswith("data.")
    )
)
_WORKOUT_FIELDS = ",".join(
    p.removeprefix("data.")
    for p in (*WORKOUTS.paths, *(f.path for f in WORKOUTS.fields), *WORKOUTS.ignored)
    if p.startswith("data.")
)
_INTRADAY_FIELDS = ",".join(
    k for k in (*INTRADAY_SAMPLES, *INTRADAY_IGNORED) if k not in ("deviceid", "model", "model_id")
)
INTRADAY_SPAN = timedelta(hours=24)  # getintradayactivity answers the first 24 h only
# notification `appli` -> record types to pull again
APPLI = {
    1: ("measure",),
    2: ("measure",),
    4: ("measure",),
    16: ("activity", "workouts", "intraday"),
    44: ("sleep",),
}


def unwrap_token_response(response: httpx.Response) -> httpx.Response:
    """Turn `{status, body}` into a plain RFC 6749 token (or error) response for authlib."""
    try:
        doc = response.json()
    except ValueError:
        return response
    if not isinstance(doc, dict) or "status" not in doc:
        return response
    if doc["status"] == 0:
        return httpx.Response(200, json=doc.get("body", {}), request=response.request)
    error = "invalid_grant" if doc["status"] in (503, *_AUTH_FAILED) else "server_error"
    description = f"status {doc['status']}"
    return httpx.Response(
        400, json={"error": error, "error_description": description}, request=response.request
    )


def _sign(secret: str, *parts: str) -> str:
    return hmac.new(secret.encode(), ",".join(parts).encode(), sha256).hexdigest()


class WithingsProvider(Provider):
    """Withings scales, watches and sleep analyzers: measures, daily activity, workouts,
    intraday samples and sleep."""

    info = ProviderInfo(
        slug="withings",
        display_name="Withings",
        auth_kind=AuthKind.OAUTH2,
        scopes=("user.info", "user.metrics", "user.activity"),
        record_types=("measure", "activity", "sleep", "workouts", "intraday"),
        supports_webhooks=True,
        webhook_auth=WebhookAuth.URL_SECRET,
    )
    # Scales and cuffs: first for body composition and blood pressure.
    priority_ranks: ClassVar[Mapping[str, int]] = {
        "*": 50,
        "sleep": 50,
        "body": 10,
        "blood_pressure": 10,
        "temperature": 30,
    }
    # Withings retries a failed notification for about 5 hours: remember deliveries a day.
    webhook_replay_window_s: ClassVar[float] = 86_400.0
    default_urls: ClassVar[Mapping[str, str]] = {
        "authorize": "https://account.withings.com/oauth2_user/authorize2",
        "token": "https://wbsapi.withings.net/v2/oauth2",
        "signature": "https://wbsapi.withings.net/v2/signature",
        "measure": "https://wbsapi.withings.net/measure",
        "measure_v2": "https://wbsapi.withings.net/v2/measure",
        "sleep": "https://wbsapi.withings.net/v2/sleep",
    }
    mappings: ClassVar[Mapping[str, RecordMapping]] = {**MAPPINGS, "intraday": INTRADAY}

    def oauth_config(self) -> OAuth2Config:
        return OAuth2Config(
            self.url("authorize"),
            self.url("token"),
            scopes=self.info.scopes,
            scope_separator=",",
            extra_token_params={"action": "requesttoken"},
            response_hook=unwrap_token_response,
        )

    async def vendor_user_id(self, tokens: Tokens) -> str | None:
        return str(tokens.extra["userid"]) if "userid" in tokens.extra else None

    def classify(self, response: httpx.Response) -> Outcome:
        outcome = default_classify(response)
        if outcome is not Outcome.OK or response.status_code != 200:
            return outcome
        status = response.json().get("status")
        if status == 0:
            return Outcome.OK
        if status in _AUTH_FAILED:
            return Outcome.UNAUTHORIZED
        if status == 601:
            return Outcome.RATE_LIMITED
        return Outcome.RETRY if status in (522, 2554, 2555) else Outcome.FAIL

    async def revoke(self, connection: Connection) -> None:
        cid, secret = self.settings.client_id, self.settings.client_secret
        async with httpx.AsyncClient(timeout=self.policy.timeout_s) as http:
            stamp = str(int(time.time()))
            got = (
                await http.post(
                    self.url("signature"),
                    data={
                        "action": "getnonce",
                        "client_id": cid,
                        "timestamp": stamp,
                        "signature": _sign(secret, "getnonce", cid, stamp),
                    },
                )
            ).json()
            if got.get("status") != 0:
                raise OAuthFlowError(self.slug, f"nonce refused (status {got.get('status')})")
            nonce = got["body"]["nonce"]
            done = (
                await http.post(
                    self.url("token"),
                    data={
                        "action": "revoke",
                        "client_id": cid,
                        "nonce": nonce,
                        "signature": _sign(secret, "revoke", cid, nonce),
                        "userid": connection.vendor_user_id or "",
                    },
                )
            ).json()
        if done.get("status") != 0:
            raise OAuthFlowError(self.slug, f"revoke refused (status {done.get('status')})")

    async def _pages(
        self, client: VendorClient, url: str, form: dict[str, Any], key: str
    ) -> AsyncIterator[tuple[dict[str, Any], dict[str, Any]]]:
        while True:
            body = (await client.request("POST", url, data=form)).json()["body"]
            for doc in body.get(key, []):
                yield body, doc
            if not body.get("more"):
                return
            form = form | {"offset": body["offset"]}

    async def fetch(
        self, client: VendorClient, record_type: str, window: Window
    ) -> AsyncIterator[dict[str, Any]]:
        last = (window.end - timedelta(microseconds=1)).date().isoformat()
        if record_type == "measure":
            form = {
                "action": "getmeas",
                "category": 1,
                "startdate": int(window.start.timestamp()),
                "enddate": int(window.end.timestamp()),
            }
            async for body, group in self._pages(client, self.url("measure"), form, "measuregrps"):
                # groups carry no zone: keep the envelope's with each stored group
                yield group | {"timezone": body.get("timezone")}
            return
        if record_type == "intraday":
            async for doc in self._intraday(client, window):
                yield doc
            return
        url, action, key = {
            "activity": (self.url("measure_v2"), "getactivity", "activities"),
            "workouts": (self.url("measure_v2"), "getworkouts", "series"),
            "sleep": (self.url("sleep"), "getsummary", "series"),
        }[record_type]
        form = {
            "action": action,
            "startdateymd": window.start.date().isoformat(),
            "enddateymd": last,
        }
        if record_type == "sleep":
            form["data_fields"] = _SLEEP_FIELDS
        if record_type == "workouts":
            form["data_fields"] = _WORKOUT_FIELDS
        async for _, doc in self._pages(client, url, form, key):
            yield doc

    async def _intraday(
        self, client: VendorClient, window: Window
    ) -> AsyncIterator[dict[str, Any]]:
        """One document per whole local day of the person the window touches (the
        connection's zone history; UTC days when none is known), so that any window, e.g. a
        notification's, stores the same documents; asked for in 24 h calls (a 25-hour DST
        day takes two)."""
        zones = client.connection.zones
        span = int(INTRADAY_SPAN.total_seconds())
        for day in window.days():
            start = int(zones.midnight(day).timestamp())
            end = int(zones.midnight(day + timedelta(days=1)).timestamp()) - 1
            series: dict[str, Any] = {}
            for part in range(start, end + 1, span):
                response = await client.request(
                    "POST",
                    self.url("measure_v2"),
                    data={
                        "action": "getintradayactivity",
                        "startdate": part,
                        "enddate": min(part + span - 1, end),
                        "data_fields": _INTRADAY_FIELDS,
                    },
                )
                series |= response.json()["body"].get("series") or {}
            if series:
                # the body is only `series`: the window and day are kept to date the document
                yield {"startdate": start, "enddate": end, "day": day.isoformat(), "series": series}

    def identify(self, record_type: str, doc: Mapping[str, Any]) -> Identity:
        if record_type == "intraday":  # stored before local days: the UTC day of its start
            day = (
                date.fromisoformat(doc["day"])
                if doc.get("day")
                else datetime.fromtimestamp(int(doc["startdate"]), UTC).date()
            )
            return Identity(f"intraday:{day.isoformat()}", None, day)
        if record_type == "measure":
            day = datetime.fromtimestamp(int(doc["date"]), UTC).date()
            return Identity(str(doc["grpid"]), str(doc.get("modified")), day)
        vendor_id = doc.get("id", doc.get("date"))
        return Identity(str(vendor_id), str(doc.get("modified")), date.fromisoformat(doc["date"]))

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, now: float | None = None
    ) -> None:
        # Withings signs nothing; authenticity comes from the secret callback URL (checked by
        # the API before this). Here only the documented shape is enforced.
        if "x-www-form-urlencoded" not in (header(headers, "content-type") or ""):
            raise WebhookVerificationError(self.slug, "notification is not a form post")
        form = dict(parse_qsl(body.decode()))
        if not form.get("userid", "").isdigit() or not form.get("appli", "").isdigit():
            raise WebhookVerificationError(self.slug, "notification lacks userid/appli")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[SyncRequest]:
        form = dict(parse_qsl(body.decode()))
        appli = int(form.get("appli", "0"))
        if appli not in APPLI:
            raise WebhookPayloadError(self.slug, f"unhandled appli {appli}")
        window = None
        if form.get("startdate") and form.get("enddate"):
            start = epoch_utc(self.slug, form["startdate"])
            end = epoch_utc(self.slug, form["enddate"])
            if end < start:
                raise WebhookPayloadError(self.slug, "enddate is before startdate")
            window = Window(start, end + timedelta(seconds=1))
        return [
            SyncRequest(self.slug, form["userid"], rt, window=window, event=str(appli))
            for rt in APPLI[appli]
        ]
