"""The API against this run's real PostgreSQL and Redis, the sandbox vendor cloud, and helpers.

Users are created through the API itself; `api_client` is one TestClient for the session, with
rate limits high enough never to trip (a dedicated test lowers them on its own app).
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from api.config import ApiSettings
from mirobody_assets.settings import Settings, get_settings
from providers.registry import ProviderRegistry
from providers.sandbox import SandboxServer
from tests.support.seeding import seed_user_data

PASSWORD = "correct horse battery staple"
# The API tests' seeded person: heart rate every 30 min, steps and heart-rate summaries.
API_SEED: dict[str, object] = {
    "days": 3,
    "heart_rate_every_min": 30,
    "summaries": ("steps", "heart_rate"),
    "raw_records": True,
}


@dataclass
class Account:
    """A registered user and a valid access token."""

    id: str
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@pytest.fixture(scope="session")
def api_settings_factory() -> Callable[..., ApiSettings]:
    def build(**overrides: object) -> ApiSettings:
        base: dict[str, object] = {
            "rate_limit_user_per_minute": 0,
            "rate_limit_ip_per_minute": 0,
            "rate_limit_auth_ip_per_minute": 0,
            "argon2_time_cost": 1,
            "argon2_memory_kib": 8192,
            "public_url": "http://testserver",
        }
        return ApiSettings.from_settings(get_settings(), **(base | overrides))

    return build


@pytest.fixture(scope="session")
def registry(sandbox: SandboxServer) -> ProviderRegistry:
    return ProviderRegistry.from_entry_points(sandbox.settings())


@pytest.fixture(scope="session")
def settings(
    database_url: str, redis_url: str, redis_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    data_dir: Path = tmp_path_factory.mktemp("api-data")
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    return get_settings(
        environment="test",
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix + "api:",
        data_dir=data_dir,
        jwt_signing_key=secrets.token_urlsafe(48),
        token_encryption_keys=f"k1:{key}",
    )


@pytest.fixture(scope="session")
def app(
    settings: Settings, api_settings_factory: Callable[..., ApiSettings], registry: ProviderRegistry
) -> FastAPI:
    return create_app(settings, api_settings=api_settings_factory(), registry=registry)


@pytest.fixture(scope="session")
def api_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="session")
def register(api_client: TestClient) -> Callable[..., Account]:
    """Create a fresh account through the API and log it in."""

    def make(prefix: str = "user") -> Account:
        email = f"{prefix}-{secrets.token_hex(5)}@example.org"
        created = api_client.post("/v1/auth/register", json={"email": email, "password": PASSWORD})
        assert created.status_code == 201, created.text
        tokens = api_client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert tokens.status_code == 200, tokens.text
        body = tokens.json()
        return Account(created.json()["id"], email, body["access_token"], body["refresh_token"])

    return make


@pytest.fixture
def account(register: Callable[..., Account]) -> Account:
    return register()


@pytest.fixture(scope="session")
def seeded(register: Callable[..., Account], engine: Engine, settings: Settings) -> Account:
    """A user with three days of data (2025-01-01..03), shared by read-only tests."""
    account = register("seeded")
    seed_user_data(engine, settings.data_dir, account.id, **API_SEED)
    return account


@pytest.fixture(scope="session")
def seed(engine: Engine, settings: Settings) -> Callable[..., None]:
    """`seed_user_data` as a fixture (conftest modules are not importable in importlib mode)."""
    return lambda user_id, **kw: seed_user_data(
        engine, settings.data_dir, user_id, **(API_SEED | kw)
    )


def _consent(url: str, person: str) -> str:
    """Play the user at the sandbox vendor's consent page; the redirect back (path + query).

    A bare person (`ada`) consents as a fresh vendor account with that person's physiology,
    since one vendor account links to one Mirobody account; `ada~x` names the account."""
    account = person if "~" in person else f"{person}~{secrets.token_hex(4)}"
    response = httpx.get(httpx.URL(url).copy_add_param("sandbox_user", account))
    assert response.status_code == 302, response.text
    location = httpx.URL(response.headers["location"])
    assert location.host == "testserver"
    return location.raw_path.decode()


@pytest.fixture(scope="session")
def link_whoop(api_client: TestClient) -> Callable[..., dict[str, object]]:
    """Link an account to a sandbox WHOOP person through the API's real OAuth flow."""

    def run(account: Account, person: str = "ada") -> dict[str, object]:
        start = api_client.post("/v1/providers/whoop/link", headers=account.headers)
        assert start.status_code == 201, start.text
        callback = _consent(start.json()["authorization_url"], person)
        done = api_client.get(callback)
        assert done.status_code == 200, done.text
        return {"callback": callback, "connection": done.json()}

    return run


@pytest.fixture(scope="session")
def consent() -> Callable[[str, str], str]:
    return _consent
