"""Settings: built by a factory, secrets refused when missing or placeholder outside development."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from mirobody_assets.settings import (
    Environment,
    SettingsError,
    ensure_dev_secrets,
    get_settings,
    parse_encryption_keys,
)

GOOD_KEYS = "k1:" + base64.urlsafe_b64encode(os.urandom(32)).decode()
GOOD_JWT = "a-real-signing-key-with-plenty-of-entropy-0123456789"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENVIRONMENT", "JWT_SIGNING_KEY", "TOKEN_ENCRYPTION_KEYS", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("environment", ["production", "test"])
@pytest.mark.parametrize("placeholder", ["changeme", "secret", "", "short"])
def test_settings_refuse_a_placeholder_jwt_key_outside_development(
    environment: str, placeholder: str
) -> None:
    with pytest.raises((SettingsError, ValidationError), match="JWT_SIGNING_KEY"):
        get_settings(
            environment=environment, jwt_signing_key=placeholder, token_encryption_keys=GOOD_KEYS
        )


def test_settings_refuse_missing_encryption_keys_in_production() -> None:
    with pytest.raises((SettingsError, ValidationError), match="TOKEN_ENCRYPTION_KEYS"):
        get_settings(environment="production", jwt_signing_key=GOOD_JWT)


def test_settings_refuse_a_malformed_encryption_key() -> None:
    bad = "k1:" + base64.urlsafe_b64encode(b"twenty-four bytes long!!").decode()
    with pytest.raises((SettingsError, ValidationError), match="32 bytes") as err:
        get_settings(environment="production", jwt_signing_key=GOOD_JWT, token_encryption_keys=bad)
    # the error names the problem, never the secrets themselves
    assert bad not in str(err.value)
    assert GOOD_JWT not in str(err.value)


def test_settings_accept_real_secrets_in_production_and_read_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("JWT_SIGNING_KEY", GOOD_JWT)
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", GOOD_KEYS + ",old:" + GOOD_KEYS[3:])
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    settings = get_settings()
    assert settings.environment is Environment.PRODUCTION
    assert list(settings.encryption_keys()) == ["k1", "old"]
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert GOOD_JWT not in repr(settings)


def test_development_allows_missing_secrets() -> None:
    assert get_settings().environment is Environment.DEVELOPMENT


def test_dev_secrets_are_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = ensure_dev_secrets(tmp_path)
    second = ensure_dev_secrets(tmp_path)
    assert first == second
    assert len(first["JWT_SIGNING_KEY"]) >= 32
    assert len(parse_encryption_keys(first["TOKEN_ENCRYPTION_KEYS"])) == 1
    mode = stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode)
    assert mode == 0o600
    # the generated secrets satisfy the production rules
    get_settings(
        environment="production",
        jwt_signing_key=first["JWT_SIGNING_KEY"],
        token_encryption_keys=first["TOKEN_ENCRYPTION_KEYS"],
    )
