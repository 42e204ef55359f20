"""The API's knobs (limits, token lifetimes, costs) as one frozen view of the shared Settings.

They are Settings fields named `api_*` (environment variables `API_*`, e.g.
`API_RATE_LIMIT_USER_PER_MINUTE`); this view drops the prefix for the code that uses them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, SecretStr

from mirobody_assets.settings import Settings

PREFIX = "api_"


class ApiSettings(BaseModel):
    """The `api_*` settings without their prefix (see Settings for defaults and meaning)."""

    model_config = ConfigDict(frozen=True)

    access_token_ttl_s: int
    refresh_token_ttl_s: int
    rate_limit_user_per_minute: int
    rate_limit_ip_per_minute: int
    rate_limit_auth_ip_per_minute: int
    oauth_state_ttl_s: int
    public_url: str | None
    max_export_rows: int
    mcp_stateless_http: bool
    argon2_time_cost: int
    argon2_memory_kib: int
    password_min_score: int
    trusted_proxies: list[str]
    metrics_token: SecretStr | None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> ApiSettings:
        """The view of `settings`; `overrides` (unprefixed names) replace single values."""
        values = {name: getattr(settings, PREFIX + name) for name in cls.model_fields}
        return cls.model_validate(values | overrides)
