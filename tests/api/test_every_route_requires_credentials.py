"""Every route that serves a user's data refuses missing, malformed and expired credentials."""

from __future__ import annotations

import re
import time
from typing import Any

import jwt
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.app import ROUTERS
from api.deps import get_current_user

PUBLIC = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/v1/auth/register",
    "/v1/auth/login",
    "/v1/auth/refresh",
    "/v1/providers/{provider}/callback",
    "/v1/webhooks/{provider}",
    "/v1/webhooks/{provider}/{secret}",
    "/v1/webhooks/fitbit",
}  # Fitbit's subscriber endpoint: signed by Fitbit
SAMPLE_PATH_VALUES = {
    "provider": "whoop",
    "indicator_id": "steps",
    "request_id": "1",
    "dataset": "daily_summary",
}
ANY_ID = "00000000-0000-0000-0000-000000000001"  # path parameters of routers added later


def _needs_user(route: APIRoute) -> bool:
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if dep.call is get_current_user:
            return True
        stack.extend(dep.dependencies)
    return False


def _routes() -> list[APIRoute]:
    return [r for module in ROUTERS for r in module.router.routes if isinstance(r, APIRoute)]


def _protected() -> list[tuple[str, str]]:
    out = []
    for route in _routes():
        if route.path not in PUBLIC:
            assert _needs_user(route), f"{route.path} serves without a caller"
            path = re.sub(
                r"{(\w+)}", lambda m: SAMPLE_PATH_VALUES.get(m.group(1), ANY_ID), route.path
            )
            out += [(method, path) for method in route.methods]
    return out


def test_the_public_routes_are_exactly_the_expected_ones() -> None:
    assert {r.path for r in _routes() if not _needs_user(r)} == PUBLIC


def test_every_protected_route_refuses_missing_garbage_and_expired_tokens(
    api_client: TestClient, settings: Any, seeded: Any
) -> None:
    routes = _protected()
    assert len(routes) >= 18
    now = int(time.time())
    expired = jwt.encode(
        {
            "sub": seeded.id,
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "iat": now - 7200,
            "exp": now - 3600,
            "jti": "x",
            "typ": "access",
        },
        settings.jwt_signing_key.get_secret_value(),
        algorithm="HS256",
    )
    garbage = "not.a.jwt-but-a-secret-looking-string"
    for method, path in routes:
        for headers, code in [
            ({}, "unauthorized"),
            ({"Authorization": f"Bearer {garbage}"}, "invalid_token"),
            ({"Authorization": f"Bearer {expired}"}, "token_expired"),
            ({"Authorization": f"Basic {garbage}"}, "unauthorized"),
        ]:
            resp = api_client.request(method, path, headers=headers, json={})
            assert resp.status_code == 401, (method, path, headers)
            assert resp.json()["code"] == code, (method, path)
            assert garbage not in resp.text and expired not in resp.text
