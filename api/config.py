"""The API's own knobs (limits, token lifetimes, costs), beside the shared Settings.

Read from the environment by `get_api_settings()` when the app is built, never at import time.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Environment variables prefixed `API_` (e.g. `API_RATE_LIMIT_USER_PER_MINUTE`)."""

    model_config = SettingsConfigDict(
        env_prefix="API_", case_sensitive=False, extra="ignore", hide_input_in_errors=True
    )

    access_token_ttl_s: int = Field(default=900, ge=30, description="Access JWT lifetime.")
    refresh_token_ttl_s: int = Field(
        default=30 * 86400, ge=60, description="Refresh token lifetime."
    )
    rate_limit_user_per_minute: int = Field(default=600, ge=0, description="0 disables.")
    rate_limit_ip_per_minute: int = Field(default=1200, ge=0, description="0 disables.")
    rate_limit_auth_ip_per_minute: int = Field(
        default=30, ge=0, description="Register/login/refresh attempts per IP; 0 disables."
    )
    oauth_state_ttl_s: int = Field(default=600, ge=30, description="Link state lifetime.")
    public_url: str | None = Field(
        default=None, description="Base URL vendors redirect back to (default http://host:port)."
    )
    max_export_rows: int = Field(default=5_000_000, ge=1, description="Export size cap.")
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8192)


def get_api_settings(**overrides: Any) -> ApiSettings:
    """Build the API settings from the environment (explicit overrides win)."""
    return ApiSettings(**overrides)
