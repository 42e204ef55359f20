"""Real PostgreSQL and real Redis for the whole suite.

With DATABASE_URL / REDIS_URL set, those servers are used; otherwise embedded ones start in a
temporary folder. Either way this run gets its own database (random name, dropped at the end)
and its own Redis key prefix (deleted at the end).
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from mirobody_assets.storage import migrate
from mirobody_assets.storage.embedded import (
    drop_database,
    ensure_database,
    start_embedded_postgres,
    start_embedded_redis,
    stop_embedded_redis,
)
from mirobody_assets.storage.engine import make_engine
from mirobody_assets.storage.redis_client import PrefixedRedis, make_redis
from providers.sandbox import SandboxCloud, SandboxServer
from tests.support.sandbox import SANDBOX_TODAY

_sandboxes: list[SandboxServer] = []  # the session's sandbox, once a test has asked for it


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL of a PostgreSQL server (its `postgres` database)."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield make_url(configured).set(database="postgres").render_as_string(hide_password=False)
        return
    # Not under pytest's basetemp: pytest deletes all but the newest three of those, which
    # would pull the data folder from under this server while another pytest run starts.
    folder = Path(tempfile.mkdtemp(prefix="mirobody-test-pg-"))
    server = start_embedded_postgres(folder / "data")
    try:
        yield server.get_uri("postgres")
    finally:
        server._cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def new_database_url(pg_server_url: str, stem: str = "mirobody_test") -> str:
    name = f"{stem}_{secrets.token_hex(4)}"
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    ensure_database(url)
    return url


@pytest.fixture
def empty_database_url(pg_server_url: str) -> Iterator[str]:
    """A brand-new empty database, dropped after the test."""
    url = new_database_url(pg_server_url, "mirobody_empty")
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture(scope="session")
def database_url(pg_server_url: str) -> Iterator[str]:
    """This run's database, migrated to head."""
    url = new_database_url(pg_server_url)
    migrate.upgrade(url)
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("REDIS_URL")
    if configured:
        yield configured
        return
    folder = Path(tempfile.mkdtemp(prefix="mirobody-test-redis-"))
    server = start_embedded_redis(folder)
    try:
        yield f"unix://{server.socket_file}"
    finally:
        stop_embedded_redis(server)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_prefix() -> str:
    return f"mirobody-test-{secrets.token_hex(4)}:"


@pytest.fixture(scope="session")
def redis(redis_url: str, redis_prefix: str) -> Iterator[PrefixedRedis]:
    client = make_redis(redis_url, redis_prefix)
    try:
        yield client
    finally:
        client.delete_all()
        client.client.close()


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """The sandbox vendor cloud on a free loopback port, one for the session; its data ends
    on SANDBOX_TODAY."""
    with SandboxServer(SandboxCloud(today=SANDBOX_TODAY)) as server:
        _sandboxes.append(server)
        try:
            yield server
        finally:
            _sandboxes.remove(server)


@pytest.fixture(autouse=True)
def _sandbox_hooks_reset() -> Iterator[None]:
    """A failure or stall a test injected into the shared sandbox ends with that test."""
    yield
    for server in _sandboxes:
        server.cloud.reset_test_hooks()


@pytest.fixture(scope="session")
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def pytest_unconfigure(config: pytest.Config) -> None:
    """Keep pytest's summary the last line: embedded servers log their exit at interpreter
    shutdown (atexit), after the report, through handlers the API installed on the root."""
    logging.getLogger().setLevel(logging.WARNING)
