"""Provider models: what each vendor is, the caller's connections, link and webhook answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ProviderPublic(BaseModel):
    """A vendor this installation knows, and whether it can be linked (and if not, why)."""

    slug: str
    display_name: str | None
    enabled: bool
    reason: str | None = Field(description="Why the provider is disabled.")
    auth_kind: str | None
    scopes: list[str]
    supports_webhooks: bool


class ProvidersPublic(BaseModel):
    data: list[ProviderPublic]
    count: int


class ConnectionPublic(BaseModel):
    """The caller's link to one vendor account and its sync status (tokens never leave)."""

    model_config = ConfigDict(from_attributes=True)

    provider: str
    status: str
    vendor_user_id: str | None
    scopes: str | None
    created_at: datetime
    last_sync_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    needs_reauthorization: bool


class ConnectionsPublic(BaseModel):
    data: list[ConnectionPublic]
    count: int


class LinkStart(BaseModel):
    """Send the user to `authorization_url`; the vendor redirects back to the callback."""

    provider: str
    authorization_url: str
    expires_in: int = Field(description="Seconds the link attempt stays valid.")


class UnlinkResult(BaseModel):
    provider: str
    revoked_at_vendor: bool
    detail: str


class WebhookAccepted(BaseModel):
    """A verified delivery: recorded, or a repeat of one already recorded. The answer is the
    same whether or not its vendor users are linked here."""

    status: Literal["accepted", "duplicate"]
