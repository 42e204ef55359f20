"""Account hardening: password strength, normalised emails, visible names, logout that ends
the access token (REST and MCP), and the migration that normalises stored emails."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.state import AppState
from mirobody_assets.storage import migrate
from mirobody_assets.storage.engine import sqlalchemy_url
from mirobody_assets.storage.redis_client import PrefixedRedis
from tests.support.live import free_port

PASSWORD = "correct horse battery staple"
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "1"},
    },
}


def _email(prefix: str = "ada") -> str:
    return f"{prefix}-{secrets.token_hex(5)}@example.org"


def _fullwidth(value: str) -> str:
    """Each printable ASCII character as its full-width look-alike (U+FF01..U+FF5E)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value)


def _register(client: TestClient, email: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post("/v1/auth/register", json={"email": email, "password": password} | extra)


@pytest.mark.parametrize("weak", ["aaaaaaaaaa", "password123", "<email>"])
def test_an_easily_guessed_password_is_refused_with_the_reason(
    api_client: TestClient, weak: str
) -> None:
    email = _email()
    password = email if weak == "<email>" else weak
    resp = _register(api_client, email, password)
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["code"] == "weak_password"
    assert body["reason"].startswith("password is too easy to guess: ")
    assert len(body["reason"]) > len("password is too easy to guess: ") + 10  # zxcvbn says why
    assert password not in resp.text
    assert (
        api_client.post("/v1/auth/login", json={"email": email, "password": password}).status_code
        == 401
    )


def test_a_password_made_of_the_display_name_is_refused(api_client: TestClient) -> None:
    resp = _register(
        api_client,
        _email(),
        "Quintessa Marlowe-Hargreaves".lower(),
        display_name="Quintessa Marlowe-Hargreaves",
    )
    assert resp.status_code == 422 and resp.json()["code"] == "weak_password"


def test_a_hard_to_guess_password_is_accepted_where_a_weak_one_was_not(
    api_client: TestClient,
) -> None:
    email = _email()
    assert _register(api_client, email, "qwertyuiop").status_code == 422
    resp = _register(api_client, email, "velvet quasar mandolin 73 brisk")
    assert resp.status_code == 201, resp.text


def test_a_full_width_or_upper_case_look_alike_email_is_taken_and_logs_in(
    api_client: TestClient,
) -> None:
    email = _email()
    created = _register(api_client, email)
    assert created.status_code == 201
    for look_alike in (_fullwidth(email), _fullwidth(email.upper()), f"  {email.upper()} "):
        again = _register(api_client, look_alike)
        assert again.status_code == 409, look_alike
        assert again.json()["code"] == "email_taken"
        login = api_client.post("/v1/auth/login", json={"email": look_alike, "password": PASSWORD})
        assert login.status_code == 200, look_alike
        me = api_client.get(
            "/v1/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
        )
        assert me.json()["id"] == created.json()["id"] and me.json()["email"] == email


def test_an_email_is_stored_normalised(api_client: TestClient) -> None:
    email = _email()
    created = _register(api_client, _fullwidth(email.upper()))
    assert created.status_code == 201, created.text
    assert created.json()["email"] == email


def test_an_email_with_an_invisible_character_is_refused(api_client: TestClient) -> None:
    resp = _register(api_client, _email().replace("@", "\u200b@"))
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["loc"] == ["body", "email"]


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u200f", "\u061c", "\u200b", "\x07"])
def test_bidi_and_invisible_characters_in_a_display_name_are_refused(
    api_client: TestClient, register: Callable[..., Any], char: str
) -> None:
    name = f"Ada{char}exe.txt"
    created = _register(api_client, _email(), display_name=name)
    assert created.status_code == 422, created.text
    error = created.json()["errors"][0]
    assert error["loc"] == ["body", "display_name"]
    assert f"U+{ord(char):04X}" in error["msg"] and "control or formatting" in error["msg"]
    account = register()
    patched = api_client.patch("/v1/me", json={"display_name": name}, headers=account.headers)
    assert patched.status_code == 422
    named = api_client.post("/v1/mcp/urls", json={"name": name}, headers=account.headers)
    assert named.status_code == 422


def test_a_name_keeps_its_emoji_joiner_but_not_an_override(
    api_client: TestClient, register: Callable[..., Any]
) -> None:
    account = register()
    name = "Ada \U0001f469\u200d\U0001f4bb"
    patched = api_client.patch("/v1/me", json={"display_name": name}, headers=account.headers)
    assert patched.status_code == 200 and patched.json()["display_name"] == name
    spoofed = api_client.patch(
        "/v1/me", json={"display_name": name + "\u202e"}, headers=account.headers
    )
    assert spoofed.status_code == 422


def _log_out(client: TestClient, account: Any) -> None:
    out = client.post(
        "/v1/auth/logout", json={"refresh_token": account.refresh_token}, headers=account.headers
    )
    assert out.status_code == 204, out.text


def test_logout_ends_the_access_token_it_was_sent_with(
    api_client: TestClient, register: Callable[..., Any]
) -> None:
    account = register()
    other_login = api_client.post(
        "/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    ).json()
    assert api_client.get("/v1/me", headers=account.headers).status_code == 200
    _log_out(api_client, account)
    after = api_client.get("/v1/me", headers=account.headers)
    assert after.status_code == 401
    assert after.json() == {"code": "token_revoked", "reason": "access token revoked (logged out)"}
    assert api_client.get("/v1/providers", headers=account.headers).status_code == 401
    # another login of the same person is another session, and goes on
    elsewhere = {"Authorization": f"Bearer {other_login['access_token']}"}
    assert api_client.get("/v1/me", headers=elsewhere).status_code == 200


def test_logout_ends_the_access_token_on_the_mcp_endpoint(
    api_client: TestClient, register: Callable[..., Any]
) -> None:
    account = register()
    before = api_client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS | account.headers)
    assert before.status_code == 200, before.text
    _log_out(api_client, account)
    after = api_client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS | account.headers)
    assert after.status_code == 401
    assert after.json()["code"] == "token_revoked"


@pytest.fixture
def redis_down(app: FastAPI) -> Iterator[None]:
    """The app's Redis swapped for a client of a port nobody listens on, for one test."""
    state: AppState = app.state.mirobody
    saved = state.redis
    dead = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    state.redis = PrefixedRedis(dead, saved.prefix)
    try:
        yield
    finally:
        state.redis = saved
        dead.close()


def test_a_token_check_without_redis_is_a_clean_503(
    api_client: TestClient, register: Callable[..., Any], redis_down: None
) -> None:
    account = register()
    resp = api_client.get("/v1/me", headers=account.headers)
    assert resp.status_code == 503
    assert resp.json()["code"] == "unavailable" and resp.headers["retry-after"] == "5"
    mcp = api_client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS | account.headers)
    assert mcp.status_code == 503


def test_the_migration_normalises_stored_emails_and_leaves_look_alikes(
    empty_database_url: str,
) -> None:
    migrate.upgrade(empty_database_url, "0005")
    engine = create_engine(sqlalchemy_url(empty_database_url))
    rows = [
        ("Ada@Example.org", "2025-01-01"),
        (_fullwidth("grace@example.org"), "2025-01-02"),
        ("grace@example.org", "2025-01-03"),
        (_fullwidth("ada@example.org"), "2025-01-04"),
    ]
    try:
        with engine.begin() as conn:
            ids = [
                conn.execute(
                    text("INSERT INTO users (email, created_at) VALUES (:e, :c) RETURNING id"),
                    {"e": e, "c": c},
                ).scalar_one()
                for e, c in rows
            ]
        migrate.upgrade(empty_database_url, "0006")
        with engine.connect() as conn:
            stored = {r.id: str(r.email) for r in conn.execute(text("SELECT id, email FROM users"))}
    finally:
        engine.dispose()
    # the oldest of a group gets the address unless another row already holds it
    assert [stored[i] for i in ids] == [
        "ada@example.org",
        _fullwidth("grace@example.org"),
        "grace@example.org",
        _fullwidth("ada@example.org"),
    ]
