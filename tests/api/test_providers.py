"""Providers: listing, the OAuth link flow against the sandbox, unlink, tokens at rest."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from api.logs import JsonFormatter
from mirobody_assets.storage.crypto import TokenCipher, open_tokens
from providers.registry import ProviderRegistry
from providers.sandbox import SANDBOX_CREDENTIALS


def _row(engine: Engine, user_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT * FROM provider_connections WHERE user_id = :u AND provider = 'whoop'"),
            {"u": user_id},
        ).one_or_none()


def test_providers_list_status_and_scopes(api_client: TestClient, account: Any) -> None:
    body = api_client.get("/v1/providers", headers=account.headers).json()
    whoop = next(p for p in body["data"] if p["slug"] == "whoop")
    assert whoop["enabled"] is True and whoop["reason"] is None
    assert "offline" in whoop["scopes"] and whoop["supports_webhooks"] is True


def test_a_provider_without_credentials_is_listed_disabled_with_the_reason(
    settings: Any, api_settings_factory: Callable[..., Any]
) -> None:
    app = create_app(
        settings,
        api_settings=api_settings_factory(),
        registry=ProviderRegistry.from_entry_points({}),
    )
    with TestClient(app) as client:
        login = {"email": "nocreds@example.org", "password": "pelican harbour ninety lanterns"}
        client.post("/v1/auth/register", json=login)
        token = client.post("/v1/auth/login", json=login)
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        whoop = next(
            p
            for p in client.get("/v1/providers", headers=headers).json()["data"]
            if p["slug"] == "whoop"
        )
        assert whoop["enabled"] is False and "client_id" in whoop["reason"]
        assert whoop["display_name"] == "WHOOP"
        refused = client.post("/v1/providers/whoop/link", headers=headers)
        assert refused.status_code == 409 and refused.json()["code"] == "provider_disabled"


def test_the_link_flow_stores_ciphertext_tokens_and_logs_no_secret(
    api_client: TestClient,
    account: Any,
    link_whoop: Any,
    engine: Engine,
    settings: Any,
    sandbox: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        linked = link_whoop(account)
        listed = api_client.get("/v1/connections", headers=account.headers).json()
    connection = linked["connection"]
    assert connection["provider"] == "whoop" and connection["status"] == "active"
    assert connection["vendor_user_id"] and listed["data"] == [connection]
    row = _row(engine, account.id)
    cipher = TokenCipher(settings.encryption_keys())
    tokens = open_tokens(
        cipher, account.id, "whoop", row.token_key_id, row.access_token_ct, row.refresh_token_ct
    )
    assert sandbox.cloud["whoop"].oauth.person_for(f"Bearer {tokens.access_token}") is not None
    for secret in (tokens.access_token, tokens.refresh_token):
        assert secret.encode() not in bytes(row.access_token_ct)
        assert secret.encode() not in bytes(row.refresh_token_ct)
    # bound to (user, provider): the same blob does not open for someone else
    with pytest.raises(Exception, match="binding"):
        open_tokens(cipher, "someone-else", "whoop", row.token_key_id, row.access_token_ct, None)
    code = dict(p.split("=", 1) for p in linked["callback"].split("?", 1)[1].split("&"))
    logged = caplog.text + "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert "GET" in logged  # the flow was logged ...
    for secret in (
        tokens.access_token,
        tokens.refresh_token,
        code["code"],
        code["state"],
        SANDBOX_CREDENTIALS["whoop"]["client_secret"],
        account.access_token,
    ):
        assert secret not in logged  # ... without a token, secret or code
    with engine.connect() as conn:
        kinds = conn.execute(
            text("SELECT kind, requested_by FROM sync_requests WHERE user_id = :u"),
            {"u": account.id},
        ).all()
    assert [tuple(k) for k in kinds] == [("backfill", "link")]


def test_a_link_state_works_once(api_client: TestClient, account: Any, link_whoop: Any) -> None:
    linked = link_whoop(account)
    replay = api_client.get(linked["callback"])
    assert replay.status_code == 422 and replay.json()["code"] == "invalid_state"


def test_a_link_state_is_bound_to_the_user_who_started_it(
    api_client: TestClient, register: Callable[..., Any], consent: Any, engine: Engine
) -> None:
    alice, mallory = register("alice"), register("mallory")
    start = api_client.post("/v1/providers/whoop/link", headers=alice.headers).json()
    callback = consent(start["authorization_url"], "ada")
    stolen = api_client.get(callback, headers=mallory.headers)
    assert stolen.status_code == 403
    assert _row(engine, mallory.id) is None and _row(engine, alice.id) is None


def test_callbacks_with_unknown_state_or_a_vendor_refusal_are_refused(
    api_client: TestClient, account: Any, engine: Engine
) -> None:
    assert (
        api_client.get(
            "/v1/providers/whoop/callback", params={"code": "x", "state": "made-up-state"}
        ).status_code
        == 422
    )
    assert api_client.get("/v1/providers/whoop/callback").status_code == 422
    start = api_client.post("/v1/providers/whoop/link", headers=account.headers).json()
    state = start["authorization_url"].split("state=")[1].split("&")[0]
    refused = api_client.get(
        "/v1/providers/whoop/callback", params={"error": "access_denied", "state": state}
    )
    assert refused.status_code == 422 and refused.json()["code"] == "link_refused"
    start = api_client.post("/v1/providers/whoop/link", headers=account.headers).json()
    state = start["authorization_url"].split("state=")[1].split("&")[0]
    bad_code = api_client.get(
        "/v1/providers/whoop/callback", params={"code": "forged-code", "state": state}
    )
    assert bad_code.status_code == 422
    assert _row(engine, account.id) is None


def test_linking_an_unknown_provider_is_404(api_client: TestClient, account: Any) -> None:
    resp = api_client.post("/v1/providers/myspace/link", headers=account.headers)
    assert resp.status_code == 404 and resp.json()["code"] == "unknown_provider"


def test_unlink_revokes_at_the_vendor_and_deletes_the_tokens(
    api_client: TestClient,
    account: Any,
    link_whoop: Any,
    engine: Engine,
    settings: Any,
    sandbox: Any,
) -> None:
    link_whoop(account)
    row = _row(engine, account.id)
    tokens = open_tokens(
        TokenCipher(settings.encryption_keys()),
        account.id,
        "whoop",
        row.token_key_id,
        row.access_token_ct,
        row.refresh_token_ct,
    )
    resp = api_client.delete("/v1/connections/whoop", headers=account.headers)
    assert resp.status_code == 200
    assert resp.json() == {"provider": "whoop", "revoked_at_vendor": True, "detail": "revoked"}
    assert sandbox.cloud["whoop"].oauth.person_for(f"Bearer {tokens.access_token}") is None
    assert _row(engine, account.id) is None
    assert api_client.delete("/v1/connections/whoop", headers=account.headers).status_code == 404


def test_deleting_the_account_revokes_linked_vendors(
    api_client: TestClient, account: Any, link_whoop: Any
) -> None:
    link_whoop(account)
    report = api_client.delete("/v1/me", headers=account.headers).json()
    assert report["vendor_revocations"] == {"whoop": "revoked"}
    assert report["postgres"]["provider_connections"] == 1


def test_a_pkce_vendor_links_with_the_verifier_kept_beside_the_state(
    api_client: TestClient, account: Any, consent: Any, engine: Engine, redis: Any, settings: Any
) -> None:
    start = api_client.post("/v1/providers/garmin/link", headers=account.headers)
    assert start.status_code == 201, start.text
    url = start.json()["authorization_url"]
    assert "code_challenge=" in url and "code_challenge_method=S256" in url
    state = url.split("state=")[1].split("&")[0]
    key = f"{settings.redis_prefix}oauth_state:{state}"
    assert 0 < redis.client.ttl(key) <= 600
    stored = redis.client.get(key)
    assert "code_verifier" not in stored  # encrypted at rest in Redis too
    done = api_client.get(consent(url, "ada"))
    assert done.status_code == 200, done.text
    assert done.json()["provider"] == "garmin"
    assert redis.client.get(key) is None


def test_a_vendor_failing_during_the_exchange_is_502_and_stores_nothing(
    api_client: TestClient, account: Any, consent: Any, engine: Engine, sandbox: Any
) -> None:
    start = api_client.post("/v1/providers/whoop/link", headers=account.headers).json()
    callback = consent(start["authorization_url"], "ada")
    sandbox.cloud["whoop"].fail_next.append(503)  # the profile call after the exchange
    resp = api_client.get(callback)
    assert resp.status_code == 502, resp.text
    assert resp.json()["code"] == "vendor_error"
    assert _row(engine, account.id) is None


def test_unlink_still_deletes_the_tokens_when_the_vendor_fails_and_says_so(
    api_client: TestClient, account: Any, link_whoop: Any, engine: Engine, sandbox: Any
) -> None:
    link_whoop(account)
    sandbox.cloud["whoop"].fail_next.append(500)
    resp = api_client.delete("/v1/connections/whoop", headers=account.headers)
    assert resp.status_code == 200
    body = resp.json()
    assert body["revoked_at_vendor"] is False and body["detail"].startswith("failed")
    assert _row(engine, account.id) is None


def test_a_link_completed_in_another_browser_is_refused(
    app: Any, api_client: TestClient, register: Callable[..., Any], consent: Any, engine: Engine
) -> None:
    """The attacker starts a link and sends the consent URL to a victim: the victim's browser
    comes back without the attacker's link cookie, so nothing is linked to anyone."""
    attacker = register("attacker")
    start = api_client.post("/v1/providers/whoop/link", headers=attacker.headers)
    assert "httponly" in start.headers["set-cookie"].lower()
    assert "samesite=lax" in start.headers["set-cookie"].lower()
    callback = consent(start.json()["authorization_url"], "ada")
    victims_browser = TestClient(app)  # no cookie of the attacker's, no token
    refused = victims_browser.get(callback)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "link_browser_mismatch"
    assert _row(engine, attacker.id) is None


def test_the_user_who_started_a_link_can_finish_it_with_their_token(
    app: Any, account: Any, consent: Any, engine: Engine
) -> None:
    app_client = TestClient(app)  # a native app: its own HTTP client, the token, no cookie
    start = app_client.post("/v1/providers/whoop/link", headers=account.headers).json()
    callback = consent(start["authorization_url"], "ada")
    done = TestClient(app).get(callback, headers=account.headers)
    assert done.status_code == 200, done.text
    assert _row(engine, account.id) is not None


def test_a_vendor_account_links_to_one_mirobody_account_only(
    api_client: TestClient, register: Callable[..., Any], consent: Any, engine: Engine
) -> None:
    first, second = register("first"), register("second")
    vendor_account = "ada~shared-" + first.id[:8]
    for who, expected in ((first, 200), (second, 409), (first, 200)):
        start = api_client.post("/v1/providers/whoop/link", headers=who.headers).json()
        done = api_client.get(consent(start["authorization_url"], vendor_account))
        assert done.status_code == expected, done.text
    assert done.json()["provider"] == "whoop"  # re-linking one's own account still works
    assert _row(engine, second.id) is None
    start = api_client.post("/v1/providers/whoop/link", headers=second.headers).json()
    refused = api_client.get(consent(start["authorization_url"], vendor_account))
    assert refused.json()["code"] == "vendor_account_linked"
    assert "ada" not in refused.json()["reason"]  # says nothing of whose account it is
