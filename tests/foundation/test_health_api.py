"""/healthz and /readyz check the real database and Redis."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from mirobody_assets.settings import get_settings


def test_readyz_reports_database_and_redis_healthy(database_url: str, redis_url: str) -> None:
    app = create_app(get_settings(database_url=database_url, redis_url=redis_url))
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}


def test_readyz_is_503_when_redis_is_down_and_does_not_leak_the_url(database_url: str) -> None:
    dead_redis = "redis://:hunter2-secret@127.0.0.1:1/0"
    app = create_app(get_settings(database_url=database_url, redis_url=dead_redis))
    with TestClient(app) as client:
        resp = client.get("/readyz")
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("error")
    assert "hunter2" not in resp.text
