"""The person's time zone through the API: its history, and a change re-deriving exactly the
stored days whose values take their offset from it."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import polars as pl
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from indicators.frames import RAW_RECORD_COLUMNS, content_hash
from mirobody_assets.storage.raw_store import insert_raw_records


def _store(engine: Engine, user: str, provider: str, record_type: str, days: list[date]) -> None:
    docs = [{"day": d.isoformat(), "data": []} for d in days]
    frame = pl.DataFrame(
        [
            {
                "provider": provider,
                "user_id": user,
                "record_type": record_type,
                "vendor_id": f"{record_type}:{d}",
                "version": None,
                "content_hash": content_hash(doc),
                "day": d,
                "payload": json.dumps(doc),
            }
            for d, doc in zip(days, docs, strict=True)
        ],
        schema=RAW_RECORD_COLUMNS,
    )
    with engine.begin() as conn:
        insert_raw_records(conn, frame)


def _requests(engine: Engine, user: str) -> list[tuple[date, date]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(  # type: ignore[misc]
                    "SELECT start_day, end_day FROM sync_requests WHERE user_id = :u "
                    "AND payload->>'reason' = 'time zone changed' ORDER BY start_day"
                ),
                {"u": user},
            ).all()
        ]


def test_a_new_zone_re_derives_only_the_days_of_values_dated_by_it(
    api_client: TestClient, account: Any, engine: Engine
) -> None:
    assert api_client.get("/v1/me/timezone", headers=account.headers).json() == {
        "zone": "UTC",
        "source": "default",
        "history": [],
    }
    oura_days = [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 10)]
    _store(engine, account.id, "oura", "heartrate", oura_days)
    _store(engine, account.id, "whoop", "recovery", [date(2025, 4, 20)])  # has its own offset
    _store(engine, account.id, "oura", "heartrate", [date(2025, 1, 5)])  # before the change

    changed = api_client.put(
        "/v1/me/timezone",
        headers=account.headers,
        json={"zone": "Asia/Kathmandu", "effective_from": "2025-02-01"},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["zone"] == "Asia/Kathmandu" and body["source"] == "user"
    assert body["history"] == [
        {"effective_from": "2025-02-01", "zone": "Asia/Kathmandu", "source": "user"}
    ]
    # each Oura day and its neighbours (a shifted sample may cross local midnight); not the
    # WHOOP day, not January (the first entry covered it before, and covers it now)
    assert [(r["start_day"], r["end_day"]) for r in body["rederive"]] == [
        ("2025-02-28", "2025-03-03"),
        ("2025-03-09", "2025-03-11"),
    ]
    assert _requests(engine, account.id) == [
        (date(2025, 2, 28), date(2025, 3, 3)),
        (date(2025, 3, 9), date(2025, 3, 11)),
    ]
    assert api_client.get("/v1/me", headers=account.headers).json()["timezone"] == (
        "Asia/Kathmandu"
    )


def test_an_unknown_zone_is_refused_with_the_reason(api_client: TestClient, account: Any) -> None:
    refused = api_client.put(
        "/v1/me/timezone", headers=account.headers, json={"zone": "Mars/Olympus_Mons"}
    )
    assert refused.status_code == 422 and "unknown IANA time zone" in refused.text


def test_a_zone_given_at_sign_up_holds_always_and_a_later_one_from_today(
    api_client: TestClient,
) -> None:
    email = "zoned-person@example.org"
    created = api_client.post(
        "/v1/auth/register",
        json={
            "email": email,
            "password": "correct horse battery staple 42",
            "timezone": "Pacific/Kiritimati",
        },
    )
    assert created.status_code == 201, created.text
    login = api_client.post(
        "/v1/auth/login", json={"email": email, "password": "correct horse battery staple 42"}
    ).json()
    headers = {"Authorization": f"Bearer {login['access_token']}"}
    history = api_client.get("/v1/me/timezone", headers=headers).json()["history"]
    assert history == [{"effective_from": None, "zone": "Pacific/Kiritimati", "source": "user"}]
    moved = api_client.patch("/v1/me", headers=headers, json={"timezone": "Pacific/Marquesas"})
    assert moved.status_code == 200 and moved.json()["timezone"] == "Pacific/Marquesas"
    after = api_client.get("/v1/me/timezone", headers=headers).json()
    assert [e["zone"] for e in after["history"]] == ["Pacific/Kiritimati", "Pacific/Marquesas"]
    start = date.fromisoformat(after["history"][1]["effective_from"])
    assert abs(start - date.today()) <= timedelta(days=1)  # the person's today
    assert after["zone"] == "Pacific/Marquesas"
