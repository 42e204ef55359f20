"""Fitbit's subscriber endpoint: the verification check answered 204/404 as Fitbit expects,
signed notifications recorded as sync requests for the linked user (answered 204), unsigned
or tampered ones refused."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from providers.sandbox.fitbit import webhook
from providers.sandbox.physiology import sandbox_person

URL = "/v1/webhooks/fitbit"


def test_the_subscriber_check_is_204_for_our_code_and_404_for_another(
    api_client: TestClient,
) -> None:
    assert api_client.get(URL, params={"verify": "sandbox-fitbit-verify"}).status_code == 204
    assert api_client.get(URL, params={"verify": "not-the-code"}).status_code == 404


def test_a_signed_notification_records_sync_requests_for_the_linked_user(
    api_client: TestClient, account: Any, consent: Any, sandbox: Any, engine: Engine
) -> None:
    name = f"ada~{secrets.token_hex(4)}"
    start = api_client.post("/v1/providers/fitbit/link", headers=account.headers)
    assert start.status_code == 201, start.text
    done = api_client.get(consent(start.json()["authorization_url"], name))
    assert done.status_code == 200, done.text
    person = sandbox_person(name)
    assert person is not None
    headers, body = webhook(sandbox.cloud["fitbit"], person, "sleep", date(2025, 2, 12))
    resp = api_client.post(URL, content=body, headers=headers)
    assert resp.status_code == 204, resp.text
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT provider, start_day, end_day FROM sync_requests WHERE user_id = :u "
                "AND kind = 'webhook' ORDER BY id"
            ),
            {"u": account.id},
        ).all()
    # the night's collections (sleep, HRV, SpO2, breathing, temperature) fold into one
    # request for the notified (local) day
    assert [tuple(r) for r in rows] == [("fitbit", date(2025, 2, 12), date(2025, 2, 12))]
    tampered = api_client.post(URL, content=body.replace(b"sleep", b"body_"), headers=headers)
    assert tampered.status_code == 401
    unsigned = api_client.post(URL, content=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
