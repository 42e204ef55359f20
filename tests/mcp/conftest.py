"""The MCP server against this run's real PostgreSQL and Redis.

One API app (create_app + install_mcp + the MCP router, wired as api/app.py will be) runs
under uvicorn on a free port for the whole session: REST calls register users, MCP clients
talk to /mcp over real HTTP, and in-memory clients use the same app state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import anyio
import mcp
import pytest
from fastapi import FastAPI
from mcp.shared.exceptions import MCPError
from sqlalchemy import Engine

from api.app import create_app
from api.config import ApiSettings
from api.mcp.context import McpDeps
from api.mcp.server import build_server
from api.state import AppState
from mirobody_assets.settings import Settings
from providers.registry import ProviderRegistry
from tests.support.live import Account, free_port, live_settings, register_account, serving
from tests.support.seeding import seed_user_data

T = TypeVar("T")

FIRST_DAY = date(2025, 1, 1)
# The MCP tests' seeded people: hourly heart rate; steps, resting heart rate and sleep summaries.
MCP_SEED: dict[str, object] = {
    "first": FIRST_DAY,
    "heart_rate_every_min": 60,
    "summaries": ("steps", "resting_heart_rate", "sleep_duration_asleep"),
    "raw_records": False,
}


@dataclass
class Live:
    """The running API: its base URL and its app state."""

    url: str
    app: FastAPI

    @property
    def state(self) -> AppState:
        state: AppState = self.app.state.mirobody
        return state


def build_app(settings: Settings, api_settings: ApiSettings) -> FastAPI:
    """The API exactly as shipped (api/app.py mounts the MCP server and its routes)."""
    return create_app(
        settings, api_settings=api_settings, registry=ProviderRegistry.from_entry_points({})
    )


@pytest.fixture(scope="session")
def mcp_settings(
    database_url: str, redis_url: str, redis_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return live_settings(
        database_url, redis_url, redis_prefix + "mcp:", tmp_path_factory.mktemp("mcp-data")
    )


@pytest.fixture(scope="session")
def app_factory() -> Callable[[Settings, ApiSettings], FastAPI]:
    """`build_app` as a fixture (conftest modules are not importable in importlib mode)."""
    return build_app


@pytest.fixture(scope="session")
def live(mcp_settings: Settings) -> Iterator[Live]:
    port = free_port()
    api = ApiSettings.from_settings(
        mcp_settings,
        rate_limit_user_per_minute=0,
        rate_limit_ip_per_minute=0,
        rate_limit_auth_ip_per_minute=0,
        argon2_time_cost=1,
        argon2_memory_kib=8192,
        public_url=f"http://127.0.0.1:{port}",
    )
    app = build_app(mcp_settings, api)
    with serving(app, port) as url:
        yield Live(url, app)


@pytest.fixture(scope="session")
def register(live: Live) -> Callable[[str], Account]:
    """Create an account through the REST API and log it in."""

    def make(prefix: str = "user") -> Account:
        return register_account(live.url, prefix)

    return make


@pytest.fixture(scope="session")
def alice(register: Callable[[str], Account], engine: Engine, mcp_settings: Settings) -> Account:
    """A user with 14 days of data (2025-01-01..14), steps 1000 + day index."""
    account = register("alice")
    seed_user_data(engine, mcp_settings.data_dir, account.id, days=14, **MCP_SEED)
    return account


@pytest.fixture(scope="session")
def bob(register: Callable[[str], Account], engine: Engine, mcp_settings: Settings) -> Account:
    """Another user with 3 days of data, steps 90000 + day index (never seen by Alice)."""
    account = register("bob")
    seed_user_data(
        engine, mcp_settings.data_dir, account.id, days=3, steps_base=90000.0, **MCP_SEED
    )
    return account


@pytest.fixture(scope="session")
def server_for(live: Live) -> Callable[[Account], Any]:
    """An in-process MCP server acting for one account (as stdio does)."""
    return lambda account: build_server(lambda: McpDeps(live.state, account.user_id))


@pytest.fixture
def with_client(
    server_for: Callable[[Any], Any], alice: Any
) -> Callable[[Callable[[mcp.Client], Awaitable[T]]], T | MCPError]:
    """Run one client call against an in-memory server acting for Alice (or `account`); an
    MCPError (a JSON-RPC error answer) is returned, not raised."""

    def run(body: Callable[[mcp.Client], Awaitable[T]], account: Any = None) -> T | MCPError:
        async def go() -> T | MCPError:
            async with mcp.Client(server_for(account or alice)) as client:
                try:
                    return await body(client)
                except MCPError as exc:
                    return exc

        return anyio.run(go)

    return run
