"""The web app against this run's real PostgreSQL and Redis and the sandbox vendor cloud.

Each `Browser` (tests/web/pages.py) is a TestClient with its own cookie jar that reads each
page's CSRF token and sends it back with the form; no database or service is mocked.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from mirobody_assets.settings import Settings, get_settings
from providers.registry import ProviderRegistry
from providers.sandbox import SandboxServer
from tests.web.pages import Browser, web_api_settings


@pytest.fixture(scope="session")
def registry(sandbox: SandboxServer) -> ProviderRegistry:
    return ProviderRegistry.from_entry_points(sandbox.settings())


@pytest.fixture(scope="session")
def settings(
    database_url: str, redis_url: str, redis_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    data_dir: Path = tmp_path_factory.mktemp("web-data")
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    return get_settings(
        environment="test",
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix + "web:",
        data_dir=data_dir,
        jwt_signing_key=secrets.token_urlsafe(48),
        token_encryption_keys=f"k1:{key}",
    )


@pytest.fixture(scope="session")
def app(settings: Settings, registry: ProviderRegistry) -> FastAPI:
    return create_app(settings, api_settings=web_api_settings(), registry=registry)


@pytest.fixture(scope="session")
def started_app(app: FastAPI) -> Iterator[FastAPI]:
    """The app with its lifespan running (one TestClient holds it open)."""
    with TestClient(app):
        yield app


@pytest.fixture
def new_browser(started_app: FastAPI) -> Callable[[], Browser]:
    """Make browsers: each its own cookie jar, no redirects followed unless asked."""

    def make() -> Browser:
        return Browser(TestClient(started_app, follow_redirects=False))

    return make


@pytest.fixture
def browser(new_browser: Callable[[], Browser]) -> Browser:
    return new_browser()
