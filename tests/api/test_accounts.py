"""Accounts: register, login, JWT checks, refresh rotation, /v1/me."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

PASSWORD = "correct horse battery staple"


def _token(settings: Any, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": changes.pop("sub", "00000000-0000-0000-0000-000000000000"),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_hex(8),
        "typ": "access",
    } | changes
    key = changes.pop("key", None) or settings.jwt_signing_key.get_secret_value()
    return jwt.encode(
        {k: v for k, v in claims.items() if v is not None and k != "key"}, key, algorithm="HS256"
    )


def test_register_then_login_then_read_me(api_client: TestClient) -> None:
    email = f"ada-{secrets.token_hex(4)}@example.org"
    created = api_client.post(
        "/v1/auth/register",
        json={
            "email": email,
            "password": PASSWORD,
            "display_name": "Ada",
            "timezone": "Europe/Paris",
        },
    )
    assert created.status_code == 201
    assert "password" not in created.text
    tokens = api_client.post("/v1/auth/login", json={"email": email.upper(), "password": PASSWORD})
    assert tokens.status_code == 200
    body = tokens.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    me = api_client.get("/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["email"] == email and me.json()["timezone"] == "Europe/Paris"


def test_password_is_stored_as_an_argon2id_hash(
    api_client: TestClient, engine: Engine, register: Callable[..., Any]
) -> None:
    account = register()
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT password_hash FROM users WHERE id = :id"), {"id": account.id}
        ).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_register_twice_with_the_same_email_is_a_conflict(
    api_client: TestClient, register: Callable[..., Any]
) -> None:
    account = register()
    again = api_client.post(
        "/v1/auth/register", json={"email": account.email.upper(), "password": PASSWORD}
    )
    assert again.status_code == 409
    assert again.json() == {"code": "email_taken", "reason": "an account with this email exists"}


def test_malformed_registration_is_422_without_echoing_the_password(api_client: TestClient) -> None:
    resp = api_client.post(
        "/v1/auth/register", json={"email": "not-an-email", "password": "short-pw1"}
    )
    assert resp.status_code == 422
    body = resp.json()
    assert body["code"] == "invalid_request"
    assert {tuple(e["loc"]) for e in body["errors"]} == {("body", "email"), ("body", "password")}
    assert "short-pw1" not in resp.text


def test_unknown_time_zone_is_rejected(api_client: TestClient) -> None:
    resp = api_client.post(
        "/v1/auth/register",
        json={
            "email": f"tz-{secrets.token_hex(4)}@example.org",
            "password": PASSWORD,
            "timezone": "Mars/Olympus",
        },
    )
    assert resp.status_code == 422


def test_login_with_a_wrong_password_or_unknown_email_is_401(
    api_client: TestClient, register: Callable[..., Any]
) -> None:
    account = register()
    wrong = api_client.post("/v1/auth/login", json={"email": account.email, "password": "nope"})
    unknown = api_client.post(
        "/v1/auth/login", json={"email": "nobody@example.org", "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {"code": "invalid_credentials", "reason": "wrong email or password"}
    )


def test_me_without_a_token_is_401(api_client: TestClient) -> None:
    resp = api_client.get("/v1/me")
    assert resp.status_code == 401
    assert resp.json()["code"] == "unauthorized"
    assert resp.headers["www-authenticate"] == "Bearer"


def test_a_401_never_echoes_the_token(api_client: TestClient) -> None:
    garbage = "eyJhbGciOiJIUzI1NiJ9.Z2FyYmFnZS1wYXlsb2Fk.c2lnbmF0dXJlLXRoYXQtaXMtd3Jvbmc"
    resp = api_client.get("/v1/me", headers={"Authorization": f"Bearer {garbage}"})
    assert resp.status_code == 401
    assert garbage not in resp.text and "Z2FyYmFnZS" not in resp.text
    assert resp.json()["code"] == "invalid_token"


def test_an_expired_token_is_401_token_expired(
    api_client: TestClient, settings: Any, register: Callable[..., Any]
) -> None:
    account = register()
    past = int(time.time()) - 3600
    expired = _token(settings, sub=account.id, iat=past - 60, exp=past)
    resp = api_client.get("/v1/me", headers={"Authorization": f"Bearer {expired}"})
    assert resp.status_code == 401
    assert resp.json()["code"] == "token_expired"
    assert expired not in resp.text


def test_tokens_with_a_wrong_issuer_audience_key_or_type_are_refused(
    api_client: TestClient, settings: Any, register: Callable[..., Any]
) -> None:
    account = register()
    bad = [
        _token(settings, sub=account.id, iss="someone-else"),
        _token(settings, sub=account.id, aud="another-api"),
        _token(settings, sub=account.id, key="a-different-signing-key-of-length"),
        _token(settings, sub=account.id, typ="refresh"),
        _token(settings, sub=account.id, exp=None),
        _token(settings, sub="not-a-uuid"),
    ]
    for token in bad:
        resp = api_client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 401, token
    # and a well-formed token for a user that does not exist
    ghost = _token(settings)
    assert api_client.get("/v1/me", headers={"Authorization": f"Bearer {ghost}"}).status_code == 401


def test_refresh_rotates_and_a_reused_refresh_token_ends_the_session(
    api_client: TestClient, register: Callable[..., Any]
) -> None:
    account = register()
    first = api_client.post("/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert first.status_code == 200
    newer = first.json()["refresh_token"]
    assert newer != account.refresh_token
    reused = api_client.post("/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert reused.status_code == 401
    # the reuse revoked the whole family, including the newer token
    assert api_client.post("/v1/auth/refresh", json={"refresh_token": newer}).status_code == 401


def test_logout_revokes_the_refresh_token(
    api_client: TestClient, register: Callable[..., Any]
) -> None:
    account = register()
    out = api_client.post(
        "/v1/auth/logout", json={"refresh_token": account.refresh_token}, headers=account.headers
    )
    assert out.status_code == 204
    again = api_client.post("/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert again.status_code == 401


def test_a_user_cannot_log_out_another_users_session(
    api_client: TestClient, register: Callable[..., Any]
) -> None:
    alice, bob = register("alice"), register("bob")
    resp = api_client.post(
        "/v1/auth/logout", json={"refresh_token": alice.refresh_token}, headers=bob.headers
    )
    assert resp.status_code == 401
    assert (
        api_client.post("/v1/auth/refresh", json={"refresh_token": alice.refresh_token}).status_code
        == 200
    )


def test_update_me_changes_name_and_time_zone(
    api_client: TestClient, register: Callable[..., Any]
) -> None:
    account = register()
    resp = api_client.patch(
        "/v1/me", json={"display_name": "Grace", "timezone": "Asia/Tokyo"}, headers=account.headers
    )
    assert resp.status_code == 200
    assert resp.json()["display_name"] == "Grace" and resp.json()["timezone"] == "Asia/Tokyo"
    bad = api_client.patch("/v1/me", json={"timezone": "Nowhere/Else"}, headers=account.headers)
    assert bad.status_code == 422
