"""Small value types shared by every provider: what a provider is, tokens, windows, requests."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from indicators.zones import ZoneHistory


class AuthKind(StrEnum):
    """How a user links a vendor account."""

    OAUTH2 = "oauth2"
    OAUTH2_PKCE = "oauth2_pkce"
    OAUTH1 = "oauth1"
    FILE_IMPORT = "file_import"  # no vendor API: the user uploads an export (Apple Health)


class WebhookAuth(StrEnum):
    """How a vendor's webhook deliveries prove where they come from."""

    SIGNATURE = "signature"  # an HMAC the vendor computes with a shared secret
    URL_SECRET = "url_secret"  # noqa: S105 - nothing signed: only the secret callback URL


@dataclass(frozen=True)
class ProviderInfo:
    """What a provider is: shown in the provider list and used by the pipeline."""

    slug: str
    display_name: str
    auth_kind: AuthKind
    scopes: tuple[str, ...]
    record_types: tuple[str, ...]
    supports_webhooks: bool
    has_refresh_token: bool = True
    webhook_auth: WebhookAuth = WebhookAuth.SIGNATURE


@dataclass(frozen=True)
class ProviderSettings:
    """Client credentials and optional base URL of one provider (from the caller's settings)."""

    client_id: str
    client_secret: str = field(repr=False)
    base_url: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> ProviderSettings:
        known = {"client_id", "client_secret", "base_url"}
        return cls(
            client_id=str(raw["client_id"]),
            client_secret=str(raw["client_secret"]),
            base_url=(str(raw["base_url"]).rstrip("/") if raw.get("base_url") else None),
            options={k: v for k, v in raw.items() if k not in known},
        )


@dataclass(frozen=True)
class Tokens:
    """A connection's credentials. `extra` holds vendor fields (user id, OAuth1 secret...)."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None
    scope: str | None = None
    token_type: str = "bearer"  # noqa: S105 (a token kind)
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def is_expired(self, leeway_s: float = 60.0, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return (now if now is not None else time.time()) >= self.expires_at - leeway_s

    @classmethod
    def from_oauth2(cls, token: Mapping[str, Any], previous: Tokens | None = None) -> Tokens:
        """Build from an OAuth 2.0 token response; keeps the old refresh token if none came."""
        expires_at = token.get("expires_at")
        if expires_at is None and token.get("expires_in") is not None:
            expires_at = time.time() + float(token["expires_in"])
        standard = {
            "access_token",
            "refresh_token",
            "expires_in",
            "expires_at",
            "scope",
            "token_type",
        }
        refresh = token.get("refresh_token") or (previous.refresh_token if previous else None)
        return cls(
            access_token=str(token["access_token"]),
            refresh_token=refresh,
            expires_at=float(expires_at) if expires_at is not None else None,
            scope=token.get("scope"),
            token_type=str(token.get("token_type", "bearer")),
            extra={k: v for k, v in token.items() if k not in standard},
        )


@dataclass(frozen=True)
class Connection:
    """One user's link to one vendor account."""

    id: str
    user_id: str
    provider: str
    tokens: Tokens
    vendor_user_id: str | None = None
    # Where the person lives over time: the local day of samples a vendor sends in UTC only.
    zones: ZoneHistory = field(default_factory=ZoneHistory)

    def with_tokens(self, tokens: Tokens) -> Connection:
        return replace(self, tokens=tokens)


@dataclass(frozen=True)
class Window:
    """A UTC time window, start inclusive, end exclusive."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("Window bounds must be timezone-aware")
        if self.end <= self.start:
            raise ValueError("Window end must be after its start")

    @classmethod
    def for_days(cls, first: date, last: date) -> Window:
        """The window covering calendar days first..last (inclusive), in UTC."""
        start = datetime(first.year, first.month, first.day, tzinfo=UTC)
        end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
        return cls(start, end)

    def days(self) -> list[date]:
        """Every UTC calendar day the window touches."""
        out, day = [], self.start.date()
        while datetime(day.year, day.month, day.day, tzinfo=UTC) < self.end:
            out.append(day)
            day += timedelta(days=1)
        return out


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the user, and what the caller must keep until the callback."""

    url: str
    state: str
    code_verifier: str | None = field(default=None, repr=False)
    request_token: Mapping[str, str] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class LinkResult:
    """The outcome of a successful callback: tokens plus the vendor's user id."""

    tokens: Tokens
    vendor_user_id: str | None


@dataclass(frozen=True)
class SyncRequest:
    """A webhook turned into work: pull this record type for this vendor user."""

    provider: str
    vendor_user_id: str
    record_type: str
    day: date | None = None
    window: Window | None = None
    object_id: str | None = None
    event: str | None = None


@runtime_checkable
class TokenStore(Protocol):
    """Where rotated tokens are persisted. Storage implements it; providers only call it."""

    async def save(self, connection_id: str, tokens: Tokens) -> None: ...

    async def rotate(
        self, connection: Connection, refresh: Callable[[Tokens], Awaitable[Tokens]]
    ) -> Tokens:
        """Refresh the connection's tokens and persist them before they are used. A store
        shared by several workers serialises this per connection and hands back tokens that
        another worker rotated meanwhile, instead of spending a refresh token twice."""
        ...


class MemoryTokenStore:
    """A TokenStore keeping every saved token in memory (tests, scripts)."""

    def __init__(self) -> None:
        self.saved: list[tuple[str, Tokens]] = []

    async def save(self, connection_id: str, tokens: Tokens) -> None:
        self.saved.append((connection_id, tokens))

    async def rotate(
        self, connection: Connection, refresh: Callable[[Tokens], Awaitable[Tokens]]
    ) -> Tokens:
        tokens = await refresh(connection.tokens)
        await self.save(connection.id, tokens)
        return tokens

    def latest(self, connection_id: str) -> Tokens | None:
        for cid, tokens in reversed(self.saved):
            if cid == connection_id:
                return tokens
        return None
