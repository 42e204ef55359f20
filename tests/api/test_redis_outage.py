"""Redis down: an API whose REDIS_URL points at a closed loopback port (a real client, a real
connection refused). Whatever needs Redis answers 503 with the error body and Retry-After,
never a 500; /readyz says which dependency is missing."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.support.live import PASSWORD, free_port

# The access-token check reads the logout revocation list in Redis and refuses with its own
# code first; anything else that needs Redis is `cache_unavailable`.
UNAVAILABLE = {"cache_unavailable", "unavailable"}
Response = Any  # TestClient's (httpx2's) response


@pytest.fixture(scope="module")
def client(
    settings: Any, api_settings_factory: Callable[..., Any], registry: Any
) -> Iterator[TestClient]:
    down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    app = create_app(down, api_settings=api_settings_factory(), registry=registry)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _unavailable(response: Response, codes: set[str] = UNAVAILABLE) -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.json()["code"] in codes
    assert 1 <= int(response.headers["retry-after"]) <= 60


def _served_or_unavailable(response: Response) -> None:
    """Never a 500: served (Redis was optional here) or a clean 503."""
    if response.status_code != 503:
        assert response.status_code < 500, (response.status_code, response.text)
    else:
        _unavailable(response)


@pytest.fixture(scope="module")
def headers(client: TestClient) -> dict[str, str]:
    """A user made while Redis is down: the rate limiter fails open (ratelimit.py), so
    registering and logging in still work."""
    email = f"no-redis-{secrets.token_hex(4)}@example.org"
    created = client.post("/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert created.status_code == 201, created.text
    login = client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    _served_or_unavailable(login)
    assert login.status_code == 200
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def test_the_vendor_redirect_back_is_503_cache_unavailable(client: TestClient) -> None:
    response = client.get("/v1/providers/whoop/callback", params={"state": "s" * 32, "code": "c"})
    _unavailable(response, {"cache_unavailable"})
    assert response.json()["reason"]


def test_starting_a_link_is_503(client: TestClient, headers: dict[str, str]) -> None:
    _unavailable(client.post("/v1/providers/whoop/link", headers=headers))


def test_a_login_is_never_a_500(client: TestClient) -> None:
    wrong = client.post(
        "/v1/auth/login", json={"email": "nobody@example.org", "password": "wrong password"}
    )
    _served_or_unavailable(wrong)
    assert wrong.status_code in {401, 503}


def test_mcp_with_a_bearer_token_is_503_or_served(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.post(
        "/mcp",
        headers=headers
        | {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"},
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        },
    )
    _served_or_unavailable(response)


def test_readyz_names_redis_as_the_missing_dependency(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("error")


def test_sign_in_attempts_are_refused_when_their_limit_cannot_be_counted(
    settings: Any, api_settings_factory: Callable[..., Any], registry: Any
) -> None:
    """With the sign-in limit on, an outage must not make password guessing unlimited."""
    down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    app = create_app(
        down, api_settings=api_settings_factory(rate_limit_auth_ip_per_minute=30), registry=registry
    )
    with TestClient(app, raise_server_exceptions=False) as limited:
        for path, body in (
            ("/v1/auth/login", {"email": "a@example.org", "password": "x"}),
            ("/v1/auth/refresh", {"refresh_token": "x"}),
        ):
            response = limited.post(path, json=body)
            _unavailable(response, {"cache_unavailable"})
