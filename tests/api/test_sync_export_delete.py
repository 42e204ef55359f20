"""Sync/backfill requests, exports, and deleting the caller's data everywhere."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from mirobody_assets.storage.facts import fact_store


def test_a_sync_request_is_recorded_pending_for_the_pipeline(
    api_client: TestClient, register: Callable[..., Any], seed: Any, engine: Engine
) -> None:
    account = register()
    seed(account.id, days=1)
    resp = api_client.post("/v1/sync-requests", json={}, headers=account.headers)
    assert resp.status_code == 202
    body = resp.json()
    assert body["kind"] == "sync" and body["status"] == "pending" and body["provider"] is None
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT user_id, kind, status, start_day, end_day FROM sync_requests WHERE id = :id"
            ),
            {"id": body["id"]},
        ).one()
    assert str(row.user_id) == account.id and row.status == "pending"
    assert (row.end_day - row.start_day).days == 1
    again = api_client.post("/v1/sync-requests", json={}, headers=account.headers)
    assert again.json()["id"] == body["id"]  # an identical pending request is not duplicated


def test_a_backfill_needs_a_valid_range_and_a_linked_provider(
    api_client: TestClient, register: Callable[..., Any], seed: Any
) -> None:
    account = register()
    seed(account.id, days=1)
    ok = api_client.post(
        "/v1/sync-requests",
        headers=account.headers,
        json={
            "kind": "backfill",
            "provider": "whoop",
            "start_day": "2024-01-01",
            "end_day": "2024-12-31",
        },
    )
    assert ok.status_code == 202 and ok.json()["start_day"] == "2024-01-01"
    listed = api_client.get("/v1/sync-requests", headers=account.headers).json()
    assert [r["id"] for r in listed["data"]] == [ok.json()["id"]]
    one = api_client.get(f"/v1/sync-requests/{ok.json()['id']}", headers=account.headers)
    assert one.status_code == 200
    for body, status in [
        ({"kind": "backfill"}, 422),
        ({"kind": "backfill", "start_day": "2024-02-01", "end_day": "2024-01-01"}, 422),
        ({"kind": "backfill", "start_day": "2024-01-01", "end_day": "2999-01-01"}, 422),
        ({"kind": "backfill", "start_day": "2000-01-01", "end_day": "2024-01-01"}, 422),
        ({"kind": "resync"}, 422),
        ({"provider": "oura"}, 404),
    ]:
        resp = api_client.post("/v1/sync-requests", json=body, headers=account.headers)
        assert resp.status_code == status, body
    assert api_client.get("/v1/sync-requests/999999999", headers=account.headers).status_code == 404


def test_a_sync_without_any_linked_provider_is_a_conflict(
    api_client: TestClient, register: Callable[..., Any]
) -> None:
    account = register()
    resp = api_client.post("/v1/sync-requests", json={}, headers=account.headers)
    assert resp.status_code == 409 and resp.json()["code"] == "no_connection"


def test_export_csv_holds_exactly_the_callers_rows(api_client: TestClient, seeded: Any) -> None:
    resp = api_client.get(
        "/v1/exports/indicator_values",
        headers=seeded.headers,
        params={"start_day": "2025-01-01", "end_day": "2025-01-01"},
    )
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert len(rows) == 97 and {r["indicator"] for r in rows} == {"heart_rate", "steps"}
    raw = api_client.get("/v1/exports/raw_records", headers=seeded.headers)
    assert len(list(csv.DictReader(io.StringIO(raw.text)))) == 3


def test_export_parquet_is_a_readable_file(api_client: TestClient, seeded: Any) -> None:
    resp = api_client.get(
        "/v1/exports/daily_summary", headers=seeded.headers, params={"format": "parquet"}
    )
    assert resp.status_code == 200
    table = pq.read_table(io.BytesIO(resp.content))
    assert table.num_rows == 6 and "value" in table.column_names
    empty = api_client.get(
        "/v1/exports/indicator_values",
        headers=seeded.headers,
        params={"format": "parquet", "start_day": "1990-01-01", "end_day": "1990-01-02"},
    )
    assert pq.read_table(io.BytesIO(empty.content)).num_rows == 0


def test_malformed_exports_are_refused(api_client: TestClient, seeded: Any) -> None:
    for path, params in [
        ("/v1/exports/users", {}),
        ("/v1/exports/daily_summary", {"format": "xlsx"}),
        ("/v1/exports/daily_summary", {"start_day": "2025-02-01", "end_day": "2025-01-01"}),
    ]:
        assert api_client.get(path, params=params, headers=seeded.headers).status_code == 422


def _parquet_file(settings: Any, user_id: str) -> Path:
    """A warehouse copy of the user's daily summaries (the fact files come from `seed`)."""
    path = Path(settings.data_dir) / "parquet" / "daily_summary" / user_id / "2025-01.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"user_id": [user_id], "value": [1.0]}).write_parquet(path)
    return path


def test_deleting_my_data_empties_postgres_and_the_warehouse_but_keeps_the_account(
    api_client: TestClient, register: Callable[..., Any], seed: Any, settings: Any, engine: Engine
) -> None:
    account, other = register(), register()
    seed(account.id)
    seed(other.id)
    mine, theirs = _parquet_file(settings, account.id), _parquet_file(settings, other.id)
    report = api_client.delete("/v1/data", headers=account.headers)
    assert report.status_code == 200
    body = report.json()
    assert body["postgres"]["daily_summary"] == 6 and body["postgres"]["raw_records"] == 3
    # the fact file of January and the warehouse's daily-summary file
    assert body["warehouse_parquet_files"] == 2 and body["warehouse_status"] == "deleted"
    assert body["account_deleted"] is False
    assert not mine.exists() and theirs.exists()
    facts = fact_store(settings.data_dir)
    assert facts.user_files(account.id) == []
    assert facts.scan_all(other.id).collect().height == 3 * 97
    assert api_client.get("/v1/me", headers=account.headers).status_code == 200


def test_deleting_my_account_removes_everything_and_the_token_stops_working(
    api_client: TestClient, register: Callable[..., Any], seed: Any, settings: Any, engine: Engine
) -> None:
    account = register()
    seed(account.id)
    parquet = _parquet_file(settings, account.id)
    report = api_client.delete("/v1/me", headers=account.headers).json()
    assert report["account_deleted"] is True and report["postgres"]["users"] == 1
    assert report["postgres"]["provider_connections"] == 1
    assert report["postgres"]["refresh_tokens"] == 1
    assert not parquet.exists()
    assert fact_store(settings.data_dir).user_files(account.id) == []
    with engine.connect() as conn:
        for table in ("daily_summary", "raw_records", "provider_connections", "sync_requests"):
            n = conn.execute(
                text(f"SELECT count(*) FROM {table} WHERE user_id = :u"), {"u": account.id}
            ).scalar_one()
            assert n == 0, table
    assert api_client.get("/v1/me", headers=account.headers).status_code == 401
    assert (
        api_client.post(
            "/v1/auth/refresh", json={"refresh_token": account.refresh_token}
        ).status_code
        == 401
    )
