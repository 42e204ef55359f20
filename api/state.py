"""What the API holds for its lifetime, built in the lifespan and reached through dependencies."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.config import ApiSettings
from api.metrics import ApiMetrics
from api.ratelimit import RateLimiter
from api.security import Passwords, TokenIssuer
from mirobody_assets.settings import Environment, Settings
from mirobody_assets.storage.crypto import TokenCipher
from mirobody_assets.storage.redis_client import PrefixedRedis
from providers.registry import ProviderRegistry

log = logging.getLogger(__name__)


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: PrefixedRedis
    api: ApiSettings
    metrics: ApiMetrics
    limiter: RateLimiter
    passwords: Passwords
    tokens: TokenIssuer
    cipher: TokenCipher
    registry: ProviderRegistry


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.mirobody
    return state


def signing_key(settings: Settings) -> str:
    """The JWT key; a development process without one gets an ephemeral key (logged)."""
    if settings.jwt_signing_key is not None:
        return settings.jwt_signing_key.get_secret_value()
    if settings.environment is not Environment.DEVELOPMENT:
        raise RuntimeError("JWT_SIGNING_KEY is required outside development")
    log.warning("JWT_SIGNING_KEY unset: using an ephemeral key (tokens end with the process)")
    return secrets.token_urlsafe(48)


def token_cipher(settings: Settings) -> TokenCipher:
    """The vendor-token cipher; development without keys gets an ephemeral one (logged)."""
    if settings.token_encryption_keys is not None:
        return TokenCipher(settings.encryption_keys())
    if settings.environment is not Environment.DEVELOPMENT:
        raise RuntimeError("TOKEN_ENCRYPTION_KEYS is required outside development")
    log.warning(
        "TOKEN_ENCRYPTION_KEYS unset: ephemeral key, stored vendor tokens will not "
        "open after a restart"
    )
    return TokenCipher({"ephemeral": os.urandom(32)})
