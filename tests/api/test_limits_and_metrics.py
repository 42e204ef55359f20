"""Rate limits in Redis (429 + Retry-After) and the Prometheus endpoint."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app

PASSWORD = "correct horse battery staple"


@contextmanager
def limited_client(
    settings: Any, api_settings_factory: Callable[..., Any], **limits: int
) -> Iterator[TestClient]:
    # Its own key prefix: counters of other tests in the same minute never interfere.
    own = settings.model_copy(
        update={"redis_prefix": f"{settings.redis_prefix}{secrets.token_hex(3)}:"}
    )
    app = create_app(own, api_settings=api_settings_factory(**limits))
    with TestClient(app) as client:
        yield client


def _login(client: TestClient) -> dict[str, str]:
    email = f"limited-{secrets.token_hex(4)}@example.org"
    client.post("/v1/auth/register", json={"email": email, "password": PASSWORD})
    token = client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def test_a_user_over_the_limit_gets_429_with_retry_after(
    settings: Any, api_settings_factory: Callable[..., Any]
) -> None:
    with limited_client(settings, api_settings_factory, rate_limit_user_per_minute=3) as client:
        headers = _login(client)
        codes = [client.get("/v1/me", headers=headers).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.get("/v1/me", headers=headers)
        assert refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # another user from the same IP is not affected by the first one's limit
        assert client.get("/v1/me", headers=_login(client)).status_code == 200


def test_an_ip_over_the_limit_gets_429_even_without_credentials(
    settings: Any, api_settings_factory: Callable[..., Any]
) -> None:
    with limited_client(settings, api_settings_factory, rate_limit_ip_per_minute=5) as client:
        codes = [client.get("/v1/me").status_code for _ in range(6)]
        assert codes == [401] * 5 + [429]
        assert "retry-after" in client.get("/v1/profile").headers


def test_login_attempts_per_ip_are_limited(
    settings: Any, api_settings_factory: Callable[..., Any]
) -> None:
    with limited_client(settings, api_settings_factory, rate_limit_auth_ip_per_minute=3) as client:
        codes = [
            client.post(
                "/v1/auth/login", json={"email": "x@example.org", "password": "guess"}
            ).status_code
            for _ in range(4)
        ]
        assert codes == [401, 401, 401, 429]


def test_metrics_expose_latency_by_route_template_and_pipeline_figures(
    app: FastAPI, api_client: TestClient, seeded: Any
) -> None:
    api_client.get("/v1/sync-requests/12345", headers=seeded.headers)
    # Without a metrics token only a loopback client is served: the scraper connects from
    # 127.0.0.1 (the session's client, "testclient", is refused: tests/api/test_exposure.py).
    assert api_client.get("/metrics").status_code == 403
    scraper = TestClient(app, client=("127.0.0.1", 50000))  # shares api_client's lifespan
    text = scraper.get("/metrics").text
    assert "mirobody_http_request_duration_seconds_bucket" in text
    assert 'route="/v1/sync-requests/{request_id}"' in text
    assert "/v1/sync-requests/12345" not in text
    for name in (
        "mirobody_provider_pulls_total",
        "mirobody_token_refreshes_total",
        "mirobody_rows_processed_total",
        "mirobody_provider_connections",
        "mirobody_sync_requests",
    ):
        assert name in text
    assert 'mirobody_provider_connections{provider="whoop",status="active"}' in text


def test_metrics_sum_every_worker_in_prometheus_multiprocess_mode(tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    script = (
        "from api.metrics import ApiMetrics\n"
        "m = ApiMetrics()\n"
        "m.provider_pulls.labels('whoop', 'linked').inc(2)\n"
        "print(m.render().decode())\n"
    )
    env = os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):  # two "workers", one after the other, sharing the folder
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        ).stdout
    assert 'mirobody_provider_pulls_total{outcome="linked",provider="whoop"} 4.0' in out
