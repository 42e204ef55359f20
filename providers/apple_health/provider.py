"""Apple Health: no server API and no OAuth. The user uploads the Health app's export
(`POST /v1/imports/apple-health`); the `raw_apple_health` asset parses it into raw documents
(one per HealthKit type and local day) and formatting maps them like any vendor's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import date
from typing import Any, ClassVar

from providers.apple_health.mapping import MAPPINGS
from providers.base import Identity, Provider
from providers.errors import OAuthFlowError, WebhookVerificationError
from providers.formatting import RecordMapping
from providers.http import VendorClient
from providers.oauth import OAuth2Config
from providers.types import (
    AuthKind,
    Connection,
    ProviderInfo,
    ProviderSettings,
    SyncRequest,
    Window,
)


class AppleHealthProvider(Provider):
    """Apple Health exports: steps, distance, energy, heart rate, resting heart rate, HRV
    (SDNN), SpO2, respiratory rate, body composition, blood pressure, VO2max, temperatures,
    sleep stages, mindful sessions and workouts, each from the device or app that wrote it."""

    info = ProviderInfo(
        slug="apple_health",
        display_name="Apple Health",
        auth_kind=AuthKind.FILE_IMPORT,
        scopes=(),
        record_types=tuple(MAPPINGS),
        supports_webhooks=False,
        has_refresh_token=False,
    )
    default_urls: ClassVar[Mapping[str, str]] = {}
    mappings: ClassVar[Mapping[str, RecordMapping]] = MAPPINGS
    # The daily merge (providers.priorities): Health also holds what other vendors' apps
    # write into it, so a vendor linked directly ranks first; Apple Health's own sources, best
    # first: the watch is worn, the phone carried (it misses steps the watch counts), then
    # the apps and devices writing to Health (apple_health.<sourceName>).
    priority_ranks: ClassVar[Mapping[str, int]] = {
        "*": 60,
        "sleep": 60,
        "recovery": 60,
        "body": 70,
        "blood_pressure": 30,
        "temperature": 60,
    }
    source_priorities: ClassVar[tuple[str, ...]] = ("apple_health.watch", "apple_health.iphone")

    @classmethod
    def from_settings(cls, raw: Mapping[str, Any] | None) -> Provider:
        """Always enabled: imports need no client credentials."""
        return cls(
            ProviderSettings(client_id="apple_health", client_secret="", options=dict(raw or {}))
        )

    def oauth_config(self) -> OAuth2Config:
        raise OAuthFlowError(
            self.slug, "Apple Health has no OAuth: upload the export", "unsupported_grant"
        )

    async def revoke(self, connection: Connection) -> None:
        """Nothing to revoke: no grant exists."""

    async def fetch(
        self, client: VendorClient, record_type: str, window: Window
    ) -> AsyncIterator[dict[str, Any]]:
        """Nothing to pull: documents come from uploaded exports."""
        return
        yield  # an async generator that yields nothing

    def identify(self, record_type: str, doc: Mapping[str, Any]) -> Identity:
        return Identity(f"{record_type}:{doc['day']}", None, date.fromisoformat(doc["day"]))

    def verify_webhook(
        self, headers: Mapping[str, str], body: bytes, now: float | None = None
    ) -> None:
        raise WebhookVerificationError(self.slug, "Apple Health sends no webhooks")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[SyncRequest]:
        return []
