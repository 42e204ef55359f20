"""The provider contract: what a vendor plugin is and the steps it performs.

A plugin subclasses `Provider`, declares `info`, its default URLs and its mapping tables, and
implements `oauth_config`, `fetch`, `identify` and the webhook pair. Everything generic
(discovery, HTTP retries and token rotation, raw envelopes, vectorised formatting) lives here
and in the modules it imports."""

from __future__ import annotations

import hashlib
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

import anyio
import httpx
import polars as pl

from indicators.schemas import IndicatorValueSchema
from providers.anchors import anchor_requests
from providers.errors import OAuthFlowError, ProviderDisabledError, SyncRequestError
from providers.formatting import (
    Formatted,
    Isolated,
    RecordMapping,
    format_isolated,
    format_records,
    format_rows,
)
from providers.http import Outcome, RetryPolicy, VendorClient, default_classify
from providers.oauth import OAuth2Config, OAuth2Strategy
from providers.raw import RawRecord, make_record, raw_frame
from providers.types import (
    AuthorizationRequest,
    Connection,
    LinkResult,
    ProviderInfo,
    ProviderSettings,
    SyncRequest,
    Tokens,
    TokenStore,
    Window,
)
from providers.webhooks import MAX_SKEW_S

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    """How the raw store keys one vendor document."""

    vendor_id: str
    version: str | None
    day: date


class Provider(ABC):
    """One vendor plugin."""

    info: ClassVar[ProviderInfo]
    default_urls: ClassVar[Mapping[str, str]]
    mappings: ClassVar[Mapping[str, RecordMapping]]
    # Where this vendor ranks when several sources cover the same day (the daily merge,
    # providers.priorities): a rank per catalogue category ("sleep", "body"...) and "*" for
    # the rest; lower ranks win. A provider that declares nothing ranks after those that do.
    priority_ranks: ClassVar[Mapping[str, int]] = {}
    # This vendor's own sources best first ("garmin" before "garmin.epochs"); its other
    # sources ("garmin.fenix7") rank with the bare slug, which follows the list if not in it.
    source_priorities: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        settings: ProviderSettings,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.settings = settings
        self.policy = policy or RetryPolicy()
        self._sleep = sleep

    @classmethod
    def from_settings(cls, raw: Mapping[str, Any] | None) -> Provider:
        """The factory the registry calls; disabled (raises) without client credentials."""
        if not raw or not raw.get("client_id") or not raw.get("client_secret"):
            raise ProviderDisabledError(cls.info.slug, "client_id/client_secret not configured")
        return cls(ProviderSettings.from_mapping(raw))

    @property
    def slug(self) -> str:
        return self.info.slug

    def url(self, name: str) -> str:
        """A vendor URL; with a configured base_url every host is replaced by it (sandbox)."""
        real = httpx.URL(self.default_urls[name])
        if not self.settings.base_url:
            return str(real)
        return self.settings.base_url + real.raw_path.decode()

    # --- OAuth -------------------------------------------------------------------------
    @abstractmethod
    def oauth_config(self) -> OAuth2Config:
        """The vendor's OAuth 2.0 dialect."""

    def oauth(self) -> OAuth2Strategy:
        return OAuth2Strategy(
            self.slug, self.settings, self.oauth_config(), timeout=self.policy.timeout_s
        )

    async def authorization_request(
        self, redirect_uri: str, state: str | None = None
    ) -> AuthorizationRequest:
        """Start linking: the URL to send the user to, plus what to keep until the callback."""
        return self.oauth().authorization_request(redirect_uri, state)

    async def complete_link(
        self,
        *,
        redirect_uri: str,
        params: Mapping[str, str],
        expected_state: str,
        code_verifier: str | None = None,
        request_token: Mapping[str, str] | None = None,
    ) -> LinkResult:
        """Finish linking from the callback's query parameters."""
        if params.get("error"):
            raise OAuthFlowError(self.slug, "user or vendor declined", params["error"])
        if params.get("state") != expected_state:
            raise OAuthFlowError(self.slug, "state mismatch on callback", "invalid_state")
        code = params.get("code")
        if not code:
            raise OAuthFlowError(self.slug, "callback without a code", "invalid_request")
        tokens = await self.oauth().exchange(code, redirect_uri, code_verifier)
        return LinkResult(tokens, await self.vendor_user_id(tokens))

    async def vendor_user_id(self, tokens: Tokens) -> str | None:
        """The vendor's id of the linked user (from the token response or a profile call)."""
        return None

    async def bearer_get(self, url: str, tokens: Tokens) -> Any:
        """One authenticated GET outside a pull (profile and user-id look-ups at link time)."""
        async with httpx.AsyncClient(timeout=self.policy.timeout_s) as http:
            response = await http.get(
                url, headers={"Authorization": f"Bearer {tokens.access_token}"}
            )
        if response.status_code >= 400:
            raise OAuthFlowError(self.slug, f"profile look-up failed ({response.status_code})")
        return response.json()

    async def refresh(self, tokens: Tokens) -> Tokens:
        """Refresh the access token (the vendor rotates the refresh token)."""
        return await self.oauth().refresh(tokens)

    @abstractmethod
    async def revoke(self, connection: Connection) -> None:
        """Tell the vendor to forget the grant (unlink)."""

    # --- pull --------------------------------------------------------------------------
    def classify(self, response: httpx.Response) -> Outcome:
        return default_classify(response)

    def client(
        self, http: httpx.AsyncClient, connection: Connection, token_store: TokenStore
    ) -> VendorClient:
        auth = self.request_auth(connection.tokens)
        refresh = self.refresh if self.info.has_refresh_token and auth is None else None
        return VendorClient(
            self.slug,
            http,
            connection,
            token_store,
            refresh,
            policy=self.policy,
            classify=self.classify,
            sleep=self._sleep,
            auth=auth,
        )

    def request_auth(self, tokens: Tokens) -> Callable[[Tokens], httpx.Auth] | None:
        """How data calls authenticate when not with a Bearer token (OAuth 1.0a signing)."""
        return None

    @abstractmethod
    def fetch(
        self, client: VendorClient, record_type: str, window: Window
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield the vendor documents of one record type in the window, following pages."""

    @abstractmethod
    def identify(self, record_type: str, doc: Mapping[str, Any]) -> Identity:
        """Vendor id, version and local day of one document."""

    def record(self, connection: Connection, record_type: str, doc: Mapping[str, Any]) -> RawRecord:
        ident = self.identify(record_type, doc)
        return make_record(
            self.slug,
            connection.user_id,
            record_type,
            ident.vendor_id,
            ident.version,
            ident.day,
            doc,
        )

    async def pull(
        self,
        connection: Connection,
        window: Window,
        token_store: TokenStore,
        *,
        record_types: tuple[str, ...] | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> pl.DataFrame:
        """Fetch every record type in the window; returns the raw-record frame."""
        records: list[RawRecord] = []
        async with maybe_client(http) as session:
            client = self.client(session, connection, token_store)
            for record_type in record_types or self.info.record_types:
                async for doc in self.fetch(client, record_type, window):
                    records.append(self.record(client.connection, record_type, doc))
        return raw_frame(records)

    async def pull_requested(
        self,
        connection: Connection,
        requests: list[SyncRequest],
        token_store: TokenStore,
        *,
        http: httpx.AsyncClient | None = None,
    ) -> pl.DataFrame:
        """Fetch what webhooks asked for (their sync requests); returns raw records."""
        records: list[RawRecord] = []
        async with maybe_client(http) as session:
            client = self.client(session, connection, token_store)
            for request in requests:
                async for record_type, doc in self.fetch_requested(client, request):
                    records.append(self.record(client.connection, record_type, doc))
        return raw_frame(records)

    async def fetch_requested(
        self, client: VendorClient, request: SyncRequest
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Documents for one sync request. By default: its record type over its window (or
        its day, widened by a day each side, since vendors date by the local day)."""
        if request.window is not None:
            window = request.window
        elif request.day is not None:
            window = Window.for_days(
                request.day - timedelta(days=1), request.day + timedelta(days=1)
            )
        else:
            raise SyncRequestError(self.slug, f"{request.record_type}: no object, day or window")
        async for doc in self.fetch(client, request.record_type, window):
            yield request.record_type, doc

    # --- format ------------------------------------------------------------------------
    def format(self, raw: pl.DataFrame, zones: pl.DataFrame | None = None) -> pl.DataFrame:
        """Raw records (any record types, formatted together: WHOOP recovery is dated by its
        sleep) to normalised rows in the indicator-value contract's columns and dtypes.

        Rows are not yet split by the contract's bounds and keys: pass the frame to
        `indicators.quarantine.split_valid` (or call `format_split`), so that bad rows are
        quarantined with a reason rather than dropped. `zones`: the people's zone histories
        (indicators.zones) for rows whose vendor states no offset; UTC without them."""
        return format_rows(self.slug, raw, self.mappings, zones)

    def format_isolated(
        self,
        raw: pl.DataFrame,
        context: pl.DataFrame | None = None,
        zones: pl.DataFrame | None = None,
        resolve: bool = True,
    ) -> Isolated:
        """`format`, record by record where it must: a record that cannot be formatted becomes
        one failure row (its type, vendor id, the payload field at fault and why) and every
        other record is formatted. `context`: raw records asked for by `anchor_requests`
        (dating or offsetting others), not formatted themselves; `zones`, `resolve`: see
        providers.formatting.format_isolated."""
        return format_isolated(self.slug, raw, self.mappings, context, zones, resolve)

    def anchor_requests(self, raw: pl.DataFrame) -> pl.DataFrame:
        """Records of other types that records of `raw` are dated or offset by and that may
        be missing from it (columns: providers.anchors.ANCHOR_REQUEST_COLUMNS)."""
        return anchor_requests(raw, self.mappings)

    def format_split(self, raw: pl.DataFrame, zones: pl.DataFrame | None = None) -> Formatted:
        """`format`, then split: values validated by IndicatorValueSchema, and quarantine."""
        formatted = format_records(self.slug, raw, self.mappings, zones)
        return Formatted(IndicatorValueSchema.validate(formatted.values), formatted.quarantine)

    # --- webhooks ----------------------------------------------------------------------
    # How long a delivery is remembered, so that the same one (a replay, or the vendor's own
    # retry) is accepted once: at least as long as `verify_webhook` would still accept it.
    webhook_replay_window_s: ClassVar[float] = 2 * MAX_SKEW_S + 60

    def delivery_key(self, headers: Mapping[str, str], body: bytes) -> str:
        """What identifies one delivery for de-duplication: the hash of its (verified) body."""
        return hashlib.sha256(body).hexdigest()

    @abstractmethod
    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, now: float | None = None
    ) -> None:
        """Raise WebhookVerificationError unless the request is signed the vendor's way."""

    @abstractmethod
    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[SyncRequest]:
        """Turn a verified webhook body into sync requests."""


class maybe_client:  # noqa: N801 (used like a context-manager function)
    """The caller's httpx client (left open), or a fresh one closed on exit."""

    def __init__(self, http: httpx.AsyncClient | None) -> None:
        self._given = http
        self._own: httpx.AsyncClient | None = None

    async def __aenter__(self) -> httpx.AsyncClient:
        if self._given is not None:
            return self._given
        self._own = httpx.AsyncClient()
        return self._own

    async def __aexit__(self, *exc: object) -> None:
        if self._own is not None:
            await self._own.aclose()
