"""Two sandbox clouds share nothing: what one vendor emulator remembers (a Polar registration,
a Withings nonce) belongs to that cloud only; the shared OAuth routes behave per vendor."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from providers.sandbox import SANDBOX_CREDENTIALS, SandboxCloud, build_app
from providers.sandbox.withings import signature
from tests.support.sandbox import SANDBOX_TODAY

REDIRECT = "http://127.0.0.1/callback"


def _client() -> TestClient:
    return TestClient(build_app(SandboxCloud(today=SANDBOX_TODAY)), follow_redirects=False)


def _code(client: TestClient, vendor: str, path: str, **extra: str) -> str:
    answer = client.get(
        f"/{vendor}{path}",
        params={
            "client_id": SANDBOX_CREDENTIALS[vendor]["client_id"],
            "response_type": "code",
            "redirect_uri": REDIRECT,
            "state": "state-0123",
            **extra,
        },
    )
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]


def _polar_token(client: TestClient) -> str:
    creds = SANDBOX_CREDENTIALS["polar"]
    basic = base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode()).decode()
    answer = client.post(
        "/polar/v2/oauth2/token",
        headers={"Authorization": f"Basic {basic}"},
        data={
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT,
            "code": _code(client, "polar", "/oauth2/authorization"),
        },
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def test_a_polar_registration_belongs_to_its_own_sandbox() -> None:
    first, second = _client(), _client()
    for client in (first, second):  # the same person registers with each cloud once
        bearer = {"Authorization": f"Bearer {_polar_token(client)}"}
        assert (
            client.post("/polar/v3/users", json={"member-id": "m1"}, headers=bearer).status_code
            == 200
        )
    again = {"Authorization": f"Bearer {_polar_token(first)}"}
    assert first.post("/polar/v3/users", json={"member-id": "m1"}, headers=again).status_code == 409


def test_a_withings_nonce_is_spent_only_where_it_was_issued() -> None:
    first, second = _client(), _client()
    cid, secret = (SANDBOX_CREDENTIALS["withings"][k] for k in ("client_id", "client_secret"))
    issued = first.post(
        "/withings/v2/signature",
        data={
            "action": "getnonce",
            "client_id": cid,
            "timestamp": "1700000000",
            "signature": signature(secret, "getnonce", cid, "1700000000"),
        },
    )
    nonce = issued.json()["body"]["nonce"]
    revoke = {
        "action": "revoke",
        "client_id": cid,
        "nonce": nonce,
        "userid": "1",
        "signature": signature(secret, "revoke", cid, nonce),
    }
    assert second.post("/withings/v2/oauth2", data=revoke).json()["status"] == 503
    assert first.post("/withings/v2/oauth2", data=revoke).json()["status"] == 0


def test_whoop_refuses_a_short_state_at_the_shared_authorize_route() -> None:
    client = _client()
    short = client.get(
        "/whoop/oauth/oauth2/auth",
        params={
            "client_id": SANDBOX_CREDENTIALS["whoop"]["client_id"],
            "response_type": "code",
            "redirect_uri": REDIRECT,
            "state": "short",
        },
    )
    assert short.status_code == 400 and short.json()["error"] == "invalid_state"
    assert _code(client, "oura", "/oauth/authorize")  # no such rule for Oura
