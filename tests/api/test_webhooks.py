"""Vendor webhooks: authenticated (signature or secret URL), replay-proof, coalesced, and silent
about which vendor users are linked here."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from mirobody_assets.storage.webhook_secrets import create_webhook_secret, revoke_webhook_secrets
from providers.sandbox import garmin, polar, withings
from providers.sandbox.physiology import Person, sandbox_person
from providers.sandbox.whoop import webhook

Linker = Callable[[Any, str, str], Person]


def _webhook_rows(engine: Engine, user_id: str) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT kind, provider, status, payload, start_day, end_day FROM sync_requests "
                "WHERE user_id = :u AND kind = 'webhook' ORDER BY id"
            ),
            {"u": user_id},
        ).all()


@pytest.fixture
def link(api_client: TestClient, consent: Any) -> Linker:
    """Link an account to a fresh sandbox vendor account (the person's physiology) through the
    API's OAuth flow; returns the sandbox person, whose vendor ids the webhooks carry."""

    def run(account: Any, provider: str, person: str = "ben") -> Person:
        name = f"{person}~{secrets.token_hex(4)}"
        start = api_client.post(f"/v1/providers/{provider}/link", headers=account.headers)
        assert start.status_code == 201, start.text
        done = api_client.get(consent(start.json()["authorization_url"], name))
        assert done.status_code == 200, done.text
        found = sandbox_person(name)
        assert found is not None
        return found

    return run


@pytest.fixture
def secret_url(engine: Engine) -> Callable[[str], str]:
    def make(provider: str) -> str:
        with Session(engine) as session:
            return f"/v1/webhooks/{provider}/{create_webhook_secret(session, provider)}"

    return make


def test_a_signed_webhook_records_a_sync_request_for_the_linked_user(
    api_client: TestClient, account: Any, link: Linker, sandbox: Any, engine: Engine
) -> None:
    ben = link(account, "whoop")
    headers, body = webhook(sandbox.cloud["whoop"], ben, "sleep.updated", "s-1")
    resp = api_client.post("/v1/webhooks/whoop", content=body, headers=headers)
    assert resp.status_code == 202 and resp.json() == {"status": "accepted"}
    rows = _webhook_rows(engine, account.id)
    assert len(rows) == 1 and rows[0].status == "pending" and rows[0].provider == "whoop"
    assert rows[0].payload == {"record_type": "sleep", "object_id": "s-1", "event": "updated"}


def test_unsigned_tampered_or_stale_webhooks_are_401(api_client: TestClient, sandbox: Any) -> None:
    ada = sandbox_person("ada")
    assert ada is not None
    headers, body = webhook(sandbox.cloud["whoop"], ada, "sleep.updated", "s-2")
    tampered = body.replace(b"s-2", b"s-3")
    stale_headers, stale_body = webhook(
        sandbox.cloud["whoop"],
        ada,
        "sleep.updated",
        "s-4",
        timestamp_ms=int((time.time() - 3600) * 1000),
    )
    unsigned = {"Content-Type": "application/json"}
    for h, b in [(unsigned, body), (headers, tampered), (stale_headers, stale_body)]:
        resp = api_client.post("/v1/webhooks/whoop", content=b, headers=h)
        assert resp.status_code == 401
        assert resp.json()["code"] == "invalid_signature"


def test_known_and_unknown_vendor_users_are_answered_alike(
    api_client: TestClient, account: Any, link: Linker, sandbox: Any
) -> None:
    known = link(account, "whoop")
    stranger = sandbox_person(f"ada~{secrets.token_hex(4)}")
    assert stranger is not None
    answers = []
    for person in (known, stranger):
        headers, body = webhook(sandbox.cloud["whoop"], person, "workout.updated", "w-1")
        resp = api_client.post("/v1/webhooks/whoop", content=body, headers=headers)
        answers.append((resp.status_code, resp.json()))
    assert answers[0] == answers[1] == (202, {"status": "accepted"})


def test_a_signed_but_malformed_webhook_is_422(api_client: TestClient, sandbox: Any) -> None:
    state = sandbox.cloud["whoop"]
    body = b'{"not": "a whoop event"}'
    ts = str(int(time.time() * 1000))
    headers = {
        "X-WHOOP-Signature": base64.b64encode(state.sign(ts.encode() + body)).decode(),
        "X-WHOOP-Signature-Timestamp": ts,
    }
    resp = api_client.post("/v1/webhooks/whoop", content=body, headers=headers)
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_webhook"


def test_a_webhook_for_an_unknown_provider_is_404(api_client: TestClient) -> None:
    assert api_client.post("/v1/webhooks/myspace", content=b"{}").status_code == 404


def test_a_signature_timestamp_that_does_not_parse_is_401_not_500(
    api_client: TestClient, sandbox: Any
) -> None:
    state = sandbox.cloud["whoop"]
    body = b'{"user_id": 1, "id": "x", "type": "sleep.updated"}'
    ts = "not-a-number"
    headers = {
        "X-WHOOP-Signature": base64.b64encode(state.sign(ts.encode() + body)).decode(),
        "X-WHOOP-Signature-Timestamp": ts,
    }
    resp = api_client.post("/v1/webhooks/whoop", content=body, headers=headers)
    assert resp.status_code == 401


def test_withings_notifications_need_the_secret_url(
    api_client: TestClient,
    account: Any,
    link: Linker,
    engine: Engine,
    secret_url: Callable[[str], str],
) -> None:
    person = link(account, "withings")
    headers, body = withings.notification(person, 44, 1739145600, 1739232000)
    url = secret_url("withings")
    wrong = f"/v1/webhooks/withings/whk_{secrets.token_urlsafe(32)}"
    for path in ("/v1/webhooks/withings", wrong, url.replace("withings", "garmin", 1)):
        resp = api_client.post(path, content=body, headers=headers)
        assert resp.status_code == 401, path
        assert "unknown_users" not in resp.text
    assert _webhook_rows(engine, account.id) == []
    assert api_client.head(url).status_code == 200  # Withings' check before subscribing
    assert api_client.head(wrong).status_code == 401
    resp = api_client.post(url, content=body, headers=headers)
    assert resp.status_code == 202 and resp.json() == {"status": "accepted"}
    [row] = _webhook_rows(engine, account.id)
    assert (row.provider, row.start_day, row.end_day) == (
        "withings",
        date(2025, 2, 10),
        date(2025, 2, 11),
    )
    with Session(engine) as session:
        revoke_webhook_secrets(session, "withings")
    assert api_client.post(url, content=body, headers=headers).status_code == 401


def test_garmin_pushes_need_the_secret_url_and_the_client_id(
    api_client: TestClient,
    account: Any,
    link: Linker,
    sandbox: Any,
    engine: Engine,
    secret_url: Callable[[str], str],
) -> None:
    person = link(account, "garmin")
    headers, body = garmin.push(sandbox.cloud["garmin"], person, "sleeps", date(2025, 2, 10))
    # the client id alone, which /link hands to anyone, is not enough
    assert api_client.post("/v1/webhooks/garmin", content=body, headers=headers).status_code == 401
    url = secret_url("garmin")
    forged = headers | {"garmin-client-id": "someone-else"}
    assert api_client.post(url, content=body, headers=forged).status_code == 401
    assert _webhook_rows(engine, account.id) == []
    resp = api_client.post(url, content=body, headers=headers)
    assert resp.status_code == 202
    [row] = _webhook_rows(engine, account.id)
    assert (row.provider, row.start_day) == ("garmin", date(2025, 2, 10))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("0", "7258118400"),  # 1970 .. 2200
        ("1739145600", "253402300798"),  # the end of year 9999: an OverflowError before
        ("1739232000", "1739145600"),  # backwards
        ("-5", "1739145600"),
        ("1739145600", "1e12"),
        ("1262304000", "1739145600"),  # 2010 .. 2025: far more than a notification names
    ],
)
def test_absurd_withings_ranges_are_422_and_record_nothing(
    api_client: TestClient,
    account: Any,
    link: Linker,
    engine: Engine,
    secret_url: Callable[[str], str],
    start: str,
    end: str,
) -> None:
    person = link(account, "withings")
    body = (
        f"userid={person.vendor_int_id('withings')}&appli=44&startdate={start}&enddate={end}"
    ).encode()
    resp = api_client.post(
        secret_url("withings"),
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] == "invalid_webhook"
    assert _webhook_rows(engine, account.id) == []


def test_a_replayed_delivery_is_accepted_once(
    api_client: TestClient, account: Any, link: Linker, sandbox: Any, engine: Engine
) -> None:
    person = link(account, "whoop")
    headers, body = webhook(sandbox.cloud["whoop"], person, "recovery.updated", "r-1")
    answers = [
        api_client.post("/v1/webhooks/whoop", content=body, headers=headers).json()
        for _ in range(3)
    ]
    assert answers == [{"status": "accepted"}, {"status": "duplicate"}, {"status": "duplicate"}]
    assert len(_webhook_rows(engine, account.id)) == 1


def test_polar_deliveries_cannot_be_replayed_ever(
    api_client: TestClient, account: Any, link: Linker, engine: Engine
) -> None:
    person = link(account, "polar")
    headers, body = polar.webhook(person, "SLEEP", "2025-02-12")
    first = api_client.post("/v1/webhooks/polar", content=body, headers=headers)
    again = api_client.post("/v1/webhooks/polar", content=body, headers=headers)
    assert (first.json(), again.json()) == ({"status": "accepted"}, {"status": "duplicate"})
    # Polar signs only the body: an old body, validly signed, is refused by its own timestamp
    # once the receiver no longer remembers it.
    old_headers, old_body = polar.webhook(
        person, "SLEEP", "2025-02-13", sent=datetime.now(UTC) - timedelta(days=9)
    )
    resp = api_client.post("/v1/webhooks/polar", content=old_body, headers=old_headers)
    assert resp.status_code == 401
    assert len(_webhook_rows(engine, account.id)) == 1


def test_many_deliveries_for_one_user_become_one_pending_request(
    api_client: TestClient, account: Any, link: Linker, sandbox: Any, engine: Engine
) -> None:
    person = link(account, "whoop")
    for n in range(14):
        headers, body = webhook(sandbox.cloud["whoop"], person, "sleep.updated", f"s-{n}")
        assert (
            api_client.post("/v1/webhooks/whoop", content=body, headers=headers).status_code == 202
        )
    [row] = _webhook_rows(engine, account.id)
    assert row.status == "pending" and row.payload["deliveries"] == 14


def test_polar_days_far_apart_stay_separate_requests(
    api_client: TestClient, account: Any, link: Linker, engine: Engine
) -> None:
    person = link(account, "polar")
    for day in ("2025-02-01", "2025-02-02", "2025-02-15"):
        headers, body = polar.webhook(person, "SLEEP", day)
        assert (
            api_client.post("/v1/webhooks/polar", content=body, headers=headers).status_code == 202
        )
    rows = _webhook_rows(engine, account.id)
    assert [(r.start_day, r.end_day) for r in rows] == [
        (date(2025, 2, 1), date(2025, 2, 2)),
        (date(2025, 2, 15), date(2025, 2, 15)),
    ]


def test_an_oura_subscription_challenge_is_answered_only_with_our_token(
    api_client: TestClient, registry: Any
) -> None:
    token = registry.get("oura").settings.options["verification_token"]
    ok = api_client.get(
        "/v1/webhooks/oura", params={"verification_token": token, "challenge": "c-1"}
    )
    assert ok.status_code == 200 and ok.json() == {"challenge": "c-1"}
    wrong = api_client.get(
        "/v1/webhooks/oura", params={"verification_token": "guess", "challenge": "c"}
    )
    assert wrong.status_code == 401
    assert api_client.get("/v1/webhooks/whoop").json()["code"] == "no_challenge"
