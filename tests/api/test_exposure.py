"""What is exposed by default: /metrics answers a loopback scraper or the metrics token holder
only, and docker-compose.yml publishes the unauthenticated Dagster UI on loopback only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app

TOKEN = "metrics-token-for-tests-0123456789abcdef"
LOOPBACK = ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]
ELSEWHERE = [
    "testclient",
    "10.0.0.7",
    "192.168.1.20",
    "203.0.113.9",
    "2001:db8::1",
    "::ffff:10.0.0.7",
    "localhost",
]


@contextmanager
def running_app(
    settings: Any, api_settings_factory: Callable[..., Any], registry: Any, **api: object
) -> Iterator[Callable[[str], TestClient]]:
    """An app with these API settings, its lifespan entered; yields a factory of clients
    that connect from a given address (TestClient's default address is "testclient")."""
    app: FastAPI = create_app(settings, api_settings=api_settings_factory(**api), registry=registry)
    with TestClient(app):
        yield lambda host: TestClient(app, client=(host, 50000))


@pytest.fixture(scope="module")
def open_to(
    settings: Any, api_settings_factory: Callable[..., Any], registry: Any
) -> Iterator[Callable[[str], TestClient]]:
    with running_app(settings, api_settings_factory, registry) as clients:
        yield clients


@pytest.fixture(scope="module")
def with_token(
    settings: Any, api_settings_factory: Callable[..., Any], registry: Any
) -> Iterator[Callable[[str], TestClient]]:
    with running_app(settings, api_settings_factory, registry, metrics_token=TOKEN) as clients:
        yield clients


@pytest.mark.parametrize("host", LOOPBACK)
def test_without_a_token_a_loopback_scraper_reads_the_metrics(
    open_to: Callable[[str], TestClient], host: str
) -> None:
    response = open_to(host).get("/metrics")
    assert response.status_code == 200, response.text
    assert "mirobody_http_request_duration_seconds" in response.text


@pytest.mark.parametrize("host", ELSEWHERE)
def test_without_a_token_any_other_client_is_forbidden(
    open_to: Callable[[str], TestClient], host: str
) -> None:
    response = open_to(host).get("/metrics")
    assert response.status_code == 403
    assert response.json()["code"] == "metrics_local_only"
    assert "mirobody_" not in response.text


@pytest.mark.parametrize(
    "header",
    [
        {"X-Forwarded-For": "203.0.113.9"},
        {"Forwarded": "for=203.0.113.9"},
        {"X-Real-IP": "203.0.113.9"},
    ],
)
def test_a_request_a_local_proxy_forwarded_is_not_local(
    open_to: Callable[[str], TestClient], header: dict[str, str]
) -> None:
    response = open_to("127.0.0.1").get("/metrics", headers=header)
    assert response.status_code == 403
    assert response.json()["code"] == "metrics_local_only"


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.7"])
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "]
)
def test_with_a_token_every_client_must_send_it(
    with_token: Callable[[str], TestClient], host: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = with_token(host).get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "metrics_token_required"
    assert response.headers["www-authenticate"] == "Bearer"
    assert TOKEN not in response.text


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.7", "testclient"])
@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_with_a_token_the_holder_reads_the_metrics_from_anywhere(
    with_token: Callable[[str], TestClient], host: str, scheme: str
) -> None:
    response = with_token(host).get("/metrics", headers={"Authorization": f"{scheme} {TOKEN}"})
    assert response.status_code == 200, response.text
    assert "mirobody_http_request_duration_seconds" in response.text


def test_an_empty_token_opens_nothing(
    settings: Any, api_settings_factory: Callable[..., Any], registry: Any
) -> None:
    """`API_METRICS_TOKEN=` (set to nothing) is no token: local clients only."""
    with running_app(settings, api_settings_factory, registry, metrics_token="") as clients:
        assert clients("127.0.0.1").get("/metrics").status_code == 200
        refused = clients("10.0.0.7").get("/metrics", headers={"Authorization": "Bearer "})
        assert refused.status_code == 403


def test_compose_publishes_only_the_api_beyond_loopback(project_root: Path) -> None:
    compose = yaml.safe_load((project_root / "docker-compose.yml").read_text())
    published = {
        name: [str(p) for p in service.get("ports") or []]
        for name, service in compose["services"].items()
    }
    assert published["dagster-webserver"] == ["127.0.0.1:3000:3000"]
    for name, ports in published.items():
        if name != "api":
            assert all(p.startswith("127.0.0.1:") for p in ports), (name, ports)
