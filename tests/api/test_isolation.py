"""One user trying every route on another user's data gets nothing of it."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from mirobody_assets.storage.facts import fact_store

RANGE = {"start": "2025-01-01T00:00:00Z", "end": "2025-01-04T00:00:00Z"}


def _counts(engine: Engine, settings: Any, user_id: str) -> dict[str, int]:
    with engine.connect() as conn:
        counts = {
            t: conn.execute(
                text(f"SELECT count(*) FROM {t} WHERE user_id = :u"), {"u": user_id}
            ).scalar_one()
            for t in ("daily_summary", "raw_records", "provider_connections", "sync_requests")
        }
    facts = fact_store(settings.data_dir).scan_all(user_id).collect()
    return counts | {"indicator_values": facts.height}


def test_no_route_takes_a_user_id_from_the_caller(app: Any) -> None:
    for path, ops in app.openapi()["paths"].items():
        assert "user" not in path
        for op in ops.values():
            names = {p["name"].lower() for p in op.get("parameters", [])}
            assert not {n for n in names if "user" in n}, (path, names)


def test_another_user_sees_and_changes_nothing_of_alices_data(
    api_client: TestClient,
    register: Callable[..., Any],
    seed: Any,
    link_whoop: Any,
    engine: Engine,
    settings: Any,
) -> None:
    alice, bob = register("alice"), register("bob")
    seed(alice.id)
    link_whoop(alice)
    request_id = api_client.post("/v1/sync-requests", json={}, headers=alice.headers).json()["id"]
    before = _counts(engine, settings, alice.id)
    assert before["indicator_values"] == 3 * 97
    h = bob.headers

    series = api_client.get(
        "/v1/series",
        headers=h,
        params={"indicator": ["heart_rate", "steps"], "resolution": "raw", **RANGE},
    )
    assert series.status_code == 200 and series.json()["data"] == []
    for resolution in ("hour", "day"):
        assert (
            api_client.get(
                "/v1/series",
                headers=h,
                params={"indicator": "heart_rate", "resolution": resolution, **RANGE},
            ).json()["data"]
            == []
        )
    assert (
        api_client.get(
            "/v1/daily-summaries",
            headers=h,
            params={"start_day": "2025-01-01", "end_day": "2025-01-03"},
        ).json()["data"]
        == []
    )
    profile = api_client.get("/v1/profile", headers=h).json()
    assert profile["user_id"] == bob.id and profile["devices"] == []
    assert profile["latest"] == [] and profile["coverage"] == []
    for dataset in ("indicator_values", "daily_summary", "raw_records"):
        export = api_client.get(f"/v1/exports/{dataset}", headers=h)
        assert list(csv.DictReader(io.StringIO(export.text))) == []
    assert api_client.get("/v1/sync-requests", headers=h).json()["data"] == []
    assert api_client.get(f"/v1/sync-requests/{request_id}", headers=h).status_code == 404
    assert api_client.get("/v1/connections", headers=h).json()["data"] == []
    assert api_client.delete("/v1/connections/whoop", headers=h).status_code == 404
    assert (
        api_client.post("/v1/sync-requests", json={"provider": "whoop"}, headers=h).status_code
        == 404
    )
    assert (
        api_client.post(
            "/v1/auth/logout", json={"refresh_token": alice.refresh_token}, headers=h
        ).status_code
        == 401
    )
    assert api_client.get("/v1/me", headers=h).json()["id"] == bob.id
    wiped = api_client.delete("/v1/data", headers=h).json()
    assert set(wiped["postgres"].values()) == {0}
    gone = api_client.delete("/v1/me", headers=h).json()
    assert gone["postgres"]["users"] == 1 and gone["vendor_revocations"] == {}

    assert _counts(engine, settings, alice.id) == before
    mine = api_client.get(
        "/v1/series", headers=alice.headers, params={"indicator": "steps", **RANGE}
    ).json()
    assert len(mine["data"]) == 3
