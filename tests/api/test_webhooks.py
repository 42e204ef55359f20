"""Vendor webhooks: signature verified, sync requests recorded for the linked users only."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from providers.sandbox.physiology import PERSONS
from providers.sandbox.whoop import webhook


def _webhook_rows(engine: Engine, user_id: str) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT kind, provider, status, payload FROM sync_requests "
            "WHERE user_id = :u AND kind = 'webhook'"), {"u": user_id}).all()


def test_a_signed_webhook_records_a_sync_request_for_the_linked_user(
        api_client: TestClient, account: Any, link_whoop: Any, sandbox: Any,
        engine: Engine) -> None:
    link_whoop(account, "ben")
    headers, body = webhook(sandbox.cloud["whoop"], PERSONS["ben"], "sleep.updated", "s-1")
    resp = api_client.post("/v1/webhooks/whoop", content=body, headers=headers)
    assert resp.status_code == 202
    assert resp.json()["accepted"] >= 1
    rows = _webhook_rows(engine, account.id)
    assert len(rows) == 1 and rows[0].status == "pending" and rows[0].provider == "whoop"
    assert rows[0].payload == {"record_type": "sleep", "object_id": "s-1", "event": "updated"}


def test_unsigned_tampered_or_stale_webhooks_are_401(api_client: TestClient,
                                                     sandbox: Any) -> None:
    headers, body = webhook(sandbox.cloud["whoop"], PERSONS["ada"], "sleep.updated", "s-2")
    tampered = body.replace(b"s-2", b"s-3")
    stale_headers, stale_body = webhook(sandbox.cloud["whoop"], PERSONS["ada"],
                                        "sleep.updated", "s-4",
                                        timestamp_ms=int((time.time() - 3600) * 1000))
    unsigned = {"Content-Type": "application/json"}
    for h, b in [(unsigned, body), (headers, tampered), (stale_headers, stale_body)]:
        resp = api_client.post("/v1/webhooks/whoop", content=b, headers=h)
        assert resp.status_code == 401
        assert resp.json()["code"] == "invalid_signature"


def test_a_webhook_for_an_unknown_vendor_user_records_nothing(api_client: TestClient,
                                                              sandbox: Any) -> None:
    state = sandbox.cloud["whoop"]
    body = json.dumps({"user_id": 123, "id": "x", "type": "sleep.updated"}).encode()
    ts = str(int(time.time() * 1000))
    headers = {"X-WHOOP-Signature": base64.b64encode(state.sign(ts.encode() + body)).decode(),
               "X-WHOOP-Signature-Timestamp": ts}
    resp = api_client.post("/v1/webhooks/whoop", content=body, headers=headers)
    assert resp.status_code == 202 and resp.json() == {"accepted": 0, "unknown_users": 1}


def test_a_signed_but_malformed_webhook_is_422(api_client: TestClient, sandbox: Any) -> None:
    state = sandbox.cloud["whoop"]
    body = b'{"not": "a whoop event"}'
    ts = str(int(time.time() * 1000))
    headers = {"X-WHOOP-Signature": base64.b64encode(state.sign(ts.encode() + body)).decode(),
               "X-WHOOP-Signature-Timestamp": ts}
    resp = api_client.post("/v1/webhooks/whoop", content=body, headers=headers)
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_webhook"


def test_a_webhook_for_an_unknown_provider_is_404(api_client: TestClient) -> None:
    assert api_client.post("/v1/webhooks/myspace", content=b"{}").status_code == 404


def test_a_signature_timestamp_that_does_not_parse_is_401_not_500(api_client: TestClient,
                                                                  sandbox: Any) -> None:
    state = sandbox.cloud["whoop"]
    body = b'{"user_id": 1, "id": "x", "type": "sleep.updated"}'
    ts = "not-a-number"
    headers = {"X-WHOOP-Signature": base64.b64encode(state.sign(ts.encode() + body)).decode(),
               "X-WHOOP-Signature-Timestamp": ts}
    resp = api_client.post("/v1/webhooks/whoop", content=body, headers=headers)
    assert resp.status_code == 401
