"""Fixtures: the sandbox vendor cloud on a free loopback port, and linking helpers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from providers.base import Provider
from providers.registry import ProviderRegistry
from providers.sandbox import SandboxCloud, SandboxServer
from providers.types import Connection

REDIRECT_URI = "http://127.0.0.1/callback"
TODAY = date(2025, 2, 20)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxCloud(today=TODAY)) as server:
        yield server


@pytest.fixture(scope="session")
def registry(sandbox: SandboxServer) -> ProviderRegistry:
    return ProviderRegistry.from_entry_points(sandbox.settings())


@pytest.fixture
def link():
    """The link-flow helper (conftest modules are not importable in importlib mode)."""
    return _link


async def consent(url: str, user: str = "ada") -> dict[str, str]:
    """Play the user at the vendor's consent page: approve, follow to the redirect URI."""
    async with httpx.AsyncClient() as http:
        response = await http.get(httpx.URL(url).copy_add_param("sandbox_user", user))
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI)
    return dict(parse_qsl(urlsplit(location).query))


async def _link(provider: Provider, user: str = "ada", connection_id: str = "c1") -> Connection:
    """The full link flow: authorization URL, consent, callback, token exchange."""
    request = await provider.authorization_request(REDIRECT_URI)
    params = await consent(request.url, user)
    result = await provider.complete_link(
        redirect_uri=REDIRECT_URI, params=params, expected_state=request.state,
        code_verifier=request.code_verifier, request_token=request.request_token)
    return Connection(id=connection_id, user_id=f"user-{user}", provider=provider.slug,
                      tokens=result.tokens, vendor_user_id=result.vendor_user_id)
