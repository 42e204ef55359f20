"""Apple Health exports: uploaded through the API (streamed to disk, size-limited, the same file
once), then imported into the raw store (a re-sent, larger export adds only what is new; an
unreadable record is quarantined with its reason and its day's other records imported)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from api.config import ApiSettings
from indicators.frames import canonical_json
from mirobody_assets.apple_health_ingest import import_export
from mirobody_assets.settings import Settings
from mirobody_assets.storage import raw_store
from mirobody_assets.storage.apple_health_imports import claim_received, upload_dir
from providers.apple_health import AppleHealthProvider
from providers.apple_health.export import read_export
from providers.sandbox.apple_health import write_export, write_export_zip
from providers.sandbox.physiology import PERSONS
from tests.api.conftest import Account

URL = "/v1/imports/apple-health"
ADA = PERSONS["ada"]


def _export_xml(first: date, last: date, inject: str = "") -> bytes:
    out = io.StringIO()
    write_export(out, ADA, first, last, heart_every_s=1800)
    text_ = out.getvalue()
    if inject:
        text_ = text_.replace("</HealthData>", inject + "</HealthData>")
    return text_.encode()


def _post(client: TestClient, account: Account, body: bytes, kind: str = "application/xml"):
    return client.post(URL, content=body, headers={**account.headers, "Content-Type": kind})


def _files(settings: Settings, account: Account) -> list[Path]:
    folder = upload_dir(settings.data_dir, account.id)
    return sorted(folder.glob("*")) if folder.exists() else []


def test_an_export_zip_is_stored_once_however_often_it_is_sent(
    api_client: TestClient, account: Account, settings: Settings, tmp_path: Path
) -> None:
    archive = write_export_zip(
        tmp_path / "export.zip", ADA, date(2025, 3, 1), date(2025, 3, 2), heart_every_s=3600
    )
    first = _post(api_client, account, archive.read_bytes(), "application/zip")
    assert first.status_code == 202, first.text
    body = first.json()
    assert body["status"] == "received" and body["size_bytes"] == archive.stat().st_size
    again = _post(api_client, account, archive.read_bytes(), "application/zip")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert len(_files(settings, account)) == 1  # the second copy was deleted
    listed = api_client.get(URL, headers=account.headers).json()
    assert [i["id"] for i in listed["data"]] == [body["id"]]
    assert api_client.get(f"{URL}/{body['id']}", headers=account.headers).json() == body


def test_another_user_cannot_read_an_import(
    api_client: TestClient, register: Callable[..., Account]
) -> None:
    owner, other = register(), register()
    created = _post(api_client, owner, _export_xml(date(2025, 3, 1), date(2025, 3, 1)))
    assert created.status_code == 202, created.text
    assert api_client.get(f"{URL}/{created.json()['id']}", headers=other.headers).status_code == 404


def test_an_upload_past_the_limit_is_refused_with_413_and_leaves_no_file(
    settings: Settings,
    api_settings_factory: Callable[..., ApiSettings],
    registry,
    register: Callable[..., Account],
) -> None:
    small = settings.model_copy(update={"apple_health_max_upload_bytes": 50_000})
    app = create_app(small, api_settings=api_settings_factory(), registry=registry)
    body = _export_xml(date(2025, 3, 1), date(2025, 3, 3))
    assert len(body) > 50_000
    with TestClient(app) as client:
        account = _register(client)

        def chunks():  # no Content-Length: the limit is found while streaming
            for i in range(0, len(body), 8192):
                yield body[i : i + 8192]

        streamed = client.post(
            URL, content=chunks(), headers={**account.headers, "Content-Type": "application/xml"}
        )
        assert streamed.status_code == 413, streamed.text
        assert streamed.json()["code"] == "too_large"
        declared = _post(client, account, body)  # Content-Length says it up front
        assert declared.status_code == 413
        assert _files(small, account) == []
        assert client.get(URL, headers=account.headers).json()["count"] == 0


def _register(client: TestClient) -> Account:
    email = f"ah-{uuid.uuid4().hex[:10]}@example.org"
    password = "correct horse battery staple"
    created = client.post("/v1/auth/register", json={"email": email, "password": password})
    assert created.status_code == 201, created.text
    tokens = client.post("/v1/auth/login", json={"email": email, "password": password}).json()
    return Account(created.json()["id"], email, tokens["access_token"], tokens["refresh_token"])


def test_a_body_that_is_not_an_export_is_refused(
    api_client: TestClient, account: Account, settings: Settings
) -> None:
    resp = _post(api_client, account, b'{"steps": 1}', "application/json")
    assert resp.status_code == 422
    assert resp.json()["code"] == "not_an_export"
    assert _files(settings, account) == []


def _import_next(engine: Engine, user: str):
    with engine.begin() as conn:
        (claimed,) = claim_received(conn, [user])
    return import_export(engine, claimed)


def _raw(engine: Engine, user: str) -> pl.DataFrame:
    with engine.connect() as conn:
        days = [date(2025, 2, 27 + i) if i < 2 else date(2025, 3, i - 1) for i in range(12)]
        return raw_store.load_latest_raw(conn, [user], days, providers=["apple_health"])


def test_a_larger_export_sent_later_adds_only_what_is_new(
    api_client: TestClient, account: Account, engine: Engine
) -> None:
    older = _export_xml(date(2025, 3, 1), date(2025, 3, 3))
    newer = _export_xml(date(2025, 3, 1), date(2025, 3, 5))  # holds the older one
    assert _post(api_client, account, older).status_code == 202
    first = _import_next(engine, account.id)
    assert first.error is None and first.new_documents == first.documents > 0
    assert (first.first_day, first.last_day) == (date(2025, 3, 1), date(2025, 3, 3))
    assert _post(api_client, account, newer).status_code == 202
    second = _import_next(engine, account.id)
    with engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT vendor_id, payload->'records' FROM raw_records WHERE user_id = :u "
                "AND provider = 'apple_health'"
            ),
            {"u": account.id},
        ).all()
        status = conn.execute(
            text(
                "SELECT status, file_path FROM apple_health_imports WHERE user_id = :u ORDER BY id"
            ),
            {"u": account.id},
        ).all()
    # every record of the newer export is stored, and each once
    records = [canonical_json(r) for _, recs in stored for r in recs]
    _, docs = read_export(io.BytesIO(newer))
    expected = [canonical_json(r) for d in docs for r in d.payload["records"]]
    assert len(records) == len(set(records)) and sorted(records) == sorted(expected)
    # the older days added nothing; a day that grew added a part with its new records only
    parts = [vid for vid, _ in stored if ":+" in vid]
    assert parts and all(vid.split(":")[1] <= "2025-03-03" for vid in parts)
    assert 0 < second.new_documents < second.documents
    assert status == [("parsed", None), ("parsed", None)]  # files deleted once parsed
    again = _post(api_client, account, newer)  # the same file: the same import, nothing new
    assert again.status_code == 200

    # each record formats once: the day totals are those of the physiology
    rows = AppleHealthProvider.from_settings(None).format_isolated(_raw(engine, account.id))
    assert rows.failures.height == 0
    steps = rows.rows.filter(
        (pl.col("indicator") == "steps") & (pl.col("source") == "apple_health.watch")
    )
    from providers.sandbox.physiology import day_truth

    expected = sum(
        t.activity.steps
        for d in range(1, 6)
        if (t := day_truth(ADA, date(2025, 3, d))).activity is not None
    )
    assert steps.get_column("value").sum() == expected


def test_a_malformed_record_is_quarantined_and_the_rest_imported(
    api_client: TestClient, account: Account, engine: Engine
) -> None:
    bad = (
        '<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="iPhone" '
        'unit="count/min" startDate="2025-03-01 09:00:00 +0100" '
        'endDate="2025-03-01 09:00:00 +0100" value="n/a"/>\n'
        '<Record type="HKQuantityTypeIdentifierStepCount" sourceName="iPhone" unit="count" '
        'startDate="yesterday" endDate="2025-03-01 09:00:00 +0100" value="12"/>\n'
    )
    assert (
        _post(api_client, account, _export_xml(date(2025, 3, 1), date(2025, 3, 1), bad)).status_code
        == 202
    )
    result = _import_next(engine, account.id)
    assert result.error is None and result.summary["malformed"] == 2
    isolated = AppleHealthProvider.from_settings(None).format_isolated(_raw(engine, account.id))
    failures = {r["field_path"]: r for r in isolated.failures.iter_rows(named=True)}
    assert set(failures) == {"records[].value", "records[].startDate"}
    assert failures["records[].startDate"]["reason"] == "unparsable_time"
    assert "n/a" in failures["records[].value"]["detail"]
    heart = isolated.rows.filter(pl.col("indicator") == "heart_rate")
    assert heart.height == 32  # 07:00..22:30 every 30 minutes, the bad one aside


def test_apple_health_is_uploaded_not_linked(api_client: TestClient, account: Account) -> None:
    resp = api_client.post("/v1/providers/apple_health/link", headers=account.headers)
    assert resp.status_code == 422 and resp.json()["code"] == "upload_instead"
    listed = {
        p["slug"]: p
        for p in api_client.get("/v1/providers", headers=account.headers).json()["data"]
    }
    assert listed["apple_health"]["auth_kind"] == "file_import"
    assert listed["fitbit"]["auth_kind"] == "oauth2_pkce"


def test_deleting_health_data_removes_waiting_uploads_and_imports(
    api_client: TestClient, account: Account, settings: Settings
) -> None:
    assert (
        _post(api_client, account, _export_xml(date(2025, 3, 1), date(2025, 3, 1))).status_code
        == 202
    )
    assert len(_files(settings, account)) == 1
    report = api_client.delete("/v1/data", headers=account.headers)
    assert report.status_code == 200, report.text
    assert report.json()["postgres"]["apple_health_imports"] == 1
    assert _files(settings, account) == []
    assert api_client.get(URL, headers=account.headers).json()["count"] == 0
