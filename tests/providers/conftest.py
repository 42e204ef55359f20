"""Fixtures: the sandbox vendor cloud on a free loopback port, and linking helpers."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx
import polars as pl
import pytest

from providers.base import Provider
from providers.registry import ProviderRegistry
from providers.sandbox import SandboxServer
from providers.types import Connection, Tokens
from tests.support.sandbox import SANDBOX_TODAY

REDIRECT_URI = "http://127.0.0.1/callback"
TODAY = SANDBOX_TODAY


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


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
        redirect_uri=REDIRECT_URI,
        params=params,
        expected_state=request.state,
        code_verifier=request.code_verifier,
        request_token=request.request_token,
    )
    return Connection(
        id=connection_id,
        user_id=f"user-{user}",
        provider=provider.slug,
        tokens=result.tokens,
        vendor_user_id=result.vendor_user_id,
    )


class Formatter:
    """Golden-test helper: format hand-written vendor documents with a real provider."""

    def __init__(self) -> None:
        from providers.registry import discover

        self._classes = {ep.name: ep.load() for ep in discover()}

    def provider(self, slug: str) -> Provider:
        return self._classes[slug].from_settings({"client_id": "id", "client_secret": "secret"})

    def raw(self, slug: str, docs: list[tuple[str, dict]]):
        provider = self.provider(slug)
        connection = Connection("c1", "u1", slug, Tokens("t"))
        from providers.raw import raw_frame

        return raw_frame(provider.record(connection, rt, doc) for rt, doc in docs)

    def rows(self, slug: str, docs: list[tuple[str, dict]]):
        return self.provider(slug).format(self.raw(slug, docs))

    def values(self, slug: str, record_type: str, doc: dict) -> dict[str, float]:
        rows = self.rows(slug, [(record_type, doc)])
        assert rows["indicator"].n_unique() == rows.height, "one value per indicator expected"
        return dict(zip(rows["indicator"], rows["value"], strict=True))

    def summary_values(self, slug: str, record_type: str, doc: dict) -> dict[str, float]:
        """`values` of a record that also carries sample series: its summary rows only (the
        series' sample indicators are left to be checked row by row)."""
        from indicators.catalogue import CATALOGUE
        from indicators.model import Kind

        samples = [i.id for i in CATALOGUE.values() if i.kind is Kind.SAMPLE]
        rows = self.rows(slug, [(record_type, doc)]).filter(~pl.col("indicator").is_in(samples))
        assert rows["indicator"].n_unique() == rows.height, "one value per indicator expected"
        return dict(zip(rows["indicator"], rows["value"], strict=True))


@pytest.fixture(scope="session")
def fmt() -> Formatter:
    return Formatter()


def uncovered_paths(known: set[str], doc: dict, prefix: str = "") -> set[str]:
    """Payload paths neither mapped nor ignored (a parent or child of a known path counts)."""
    out: set[str] = set()
    for key, value in doc.items():
        path = f"{prefix}{key}"
        if any(path == k or path.startswith(k + ".") for k in known):
            continue
        parent = any(k.startswith(path + ".") for k in known)
        if isinstance(value, dict) and parent:
            out |= uncovered_paths(known, value, path + ".")
        elif not parent:
            out.add(path)
    return out


@pytest.fixture
def coverage():
    return uncovered_paths
