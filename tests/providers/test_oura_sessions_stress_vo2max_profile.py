"""Oura sessions, daily stress, VO2max, cardiovascular age and the profile (golden tests on
documents written from the spec, expected values worked by hand), their sandbox paths over
real HTTP, and heart rate stored as one raw record per UTC day."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import polars as pl
import pytest
from sqlalchemy import text

from mirobody_assets.storage.raw_store import insert_raw_records, load_latest_raw
from providers.raw import make_record, raw_frame
from providers.sandbox import oura as oura_sandbox
from providers.sandbox.physiology import PERSONS
from providers.types import MemoryTokenStore, SyncRequest, Window

SESSION = {
    "id": "5d3c2b1a-0f9e-4d8c-b7a6-918273645510",
    "day": "2025-03-11",
    "meta": {"updated_at": "2025-03-11T07:43:00Z", "version": 2},
    "type": "meditation",
    "mood": "good",
    "start_datetime": "2025-03-11T07:30:13+01:00",
    "end_datetime": "2025-03-11T07:42:43+01:00",
    "heart_rate": {
        "interval": 5.0,
        "items": [61.0, 59.0, 58.0],
        "timestamp": "2025-03-11T07:30:13.000+01:00",
    },
    "heart_rate_variability": {
        "interval": 5.0,
        "items": [40.0, None, 44.5],
        "timestamp": "2025-03-11T07:30:13.000+01:00",
    },
    "motion_count": {
        "interval": 5.0,
        "items": [0.0, 1.0, 0.0],
        "timestamp": "2025-03-11T07:30:13.000+01:00",
    },
}
STRESS = {
    "id": "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
    "day": "2025-03-11",
    "meta": {"updated_at": "2025-03-12T05:00:00Z", "version": 1},
    "stress_high": 5400,
    "recovery_high": 2700,
    "day_summary": "normal",
}
VO2 = {
    "id": "1b2c3d4e-5f60-4718-a9b0-c1d2e3f40516",
    "day": "2025-03-11",
    "meta": {"updated_at": "2025-03-11T18:00:00Z", "version": 1},
    "timestamp": "2025-03-11T18:58:30+01:00",
    "vo2_max": 46,
}
CV_AGE = {
    "id": "6f5e4d3c-2b1a-4098-b7c6-d5e4f3a2b1c0",
    "day": "2025-03-11",
    "meta": {"updated_at": "2025-03-11T06:00:00Z", "version": 1},
    "vascular_age": 38,
}
PROFILE = {
    "id": "U7K2QH",
    "age": 34,
    "weight": 68.4,
    "height": 1.71,
    "biological_sex": "female",
    "email": "ada@example.test",
}
HR_DAY = {
    "day": "2025-03-11",
    "data": [
        {
            "bpm": 61,
            "source": "awake",
            "timestamp": "2025-03-11T12:31:21+00:00",
            "timestamp_unix": 1741696281000,
        },
        {
            "bpm": 54,
            "source": "session",
            "timestamp": "2025-03-11T13:22:15+00:00",
            "timestamp_unix": 1741699335000,
        },
    ],
}

# The spec's (OpenAPI 1.29) fields of each record type.
DOCUMENTED = {
    "personal_info": "id age weight height biological_sex email",
    "session": "id meta day start_datetime end_datetime type heart_rate "
    "heart_rate_variability mood motion_count",
    "daily_stress": "id meta day stress_high recovery_high day_summary",
    "vO2_max": "id meta day timestamp vo2_max",
    "daily_cardiovascular_age": "id meta day vascular_age",
    "heartrate": "day data",
}
WINDOW = Window.for_days(date(2025, 2, 3), date(2025, 2, 16))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- golden formatting ----------------------------------------------------------------------
def test_a_meditation_session_is_mindfulness_time_with_its_hrv_samples(fmt):
    rows = fmt.rows("oura", [("session", SESSION)]).sort("indicator", "time")
    duration = rows.filter(pl.col("indicator") == "mindfulness_duration").row(0, named=True)
    assert duration["value"] == pytest.approx(12.5)  # 07:30:13 to 07:42:43 = 750 s
    assert (duration["time"], duration["end_time"], duration["tz_offset_s"]) == (
        utc(2025, 3, 11, 6, 30, 13),
        utc(2025, 3, 11, 6, 42, 43),
        3600,
    )
    hrv = rows.filter(pl.col("indicator") == "hrv_rmssd")
    # items 0 and 2 (the null is no reading), 5 s apart from the series' own timestamp
    assert hrv["value"].to_list() == [40.0, 44.5]
    assert hrv["time"].to_list() == [utc(2025, 3, 11, 6, 30, 13), utc(2025, 3, 11, 6, 30, 23)]
    assert hrv["end_time"].null_count() == 2 and set(hrv["unit"]) == {"ms"}
    # heart_rate is left to the heartrate collection (source "session"): no duplicate rows
    assert set(rows["indicator"]) == {"mindfulness_duration", "hrv_rmssd"}


def test_naps_are_not_mindfulness_and_a_session_may_lack_samples(fmt):
    assert fmt.rows("oura", [("session", SESSION | {"type": "nap"})]).height == 0
    assert fmt.rows("oura", [("session", SESSION | {"type": "body_status"})]).height == 0
    bare = SESSION | {
        "type": "breathing",
        "heart_rate": None,
        "heart_rate_variability": None,
        "motion_count": None,
        "mood": None,
    }
    assert fmt.values("oura", "session", bare) == {"mindfulness_duration": pytest.approx(12.5)}


def test_daily_stress_seconds_become_minutes_of_the_local_day(fmt):
    assert fmt.values("oura", "daily_stress", STRESS) == {
        "stress_duration_high": 90.0,
        "recovery_duration_high": 45.0,
    }  # 5400 s, 2700 s
    row = fmt.rows("oura", [("daily_stress", STRESS)]).row(0, named=True)
    assert (row["time"], row["end_time"], row["tz_offset_s"]) == (
        utc(2025, 3, 11),
        utc(2025, 3, 12),
        0,
    )
    assert fmt.values("oura", "daily_stress", STRESS | {"recovery_high": None}) == {
        "stress_duration_high": 90.0
    }
    pending = STRESS | {"stress_high": None, "recovery_high": None, "day_summary": None}
    assert fmt.rows("oura", [("daily_stress", pending)]).height == 0


def test_vo2max_and_cardiovascular_age(fmt):
    assert fmt.values("oura", "vO2_max", VO2) == {"vo2max": 46}
    row = fmt.rows("oura", [("vO2_max", VO2)]).row(0, named=True)
    assert (row["time"], row["tz_offset_s"]) == (utc(2025, 3, 11, 17, 58, 30), 3600)
    assert fmt.values("oura", "daily_cardiovascular_age", CV_AGE) == {"cardiovascular_age": 38}
    row = fmt.rows("oura", [("daily_cardiovascular_age", CV_AGE)]).row(0, named=True)
    assert (row["time"], row["unit"]) == (utc(2025, 3, 11), "a")
    empty = CV_AGE | {"vascular_age": None}
    assert fmt.rows("oura", [("daily_cardiovascular_age", empty)]).height == 0


def test_profile_gives_weight_and_height_and_never_the_email(fmt):
    before = datetime.now(UTC).date()
    rows = fmt.rows("oura", [("personal_info", PROFILE)])
    assert dict(zip(rows["indicator"], rows["value"], strict=True)) == {
        "weight": 68.4,
        "height": 1.71,
    }
    assert {t.date() for t in rows["time"]} <= {before, datetime.now(UTC).date()}
    text_cells = rows.select(pl.col(pl.String)).to_dicts()
    assert not any("@" in str(v) for row in text_cells for v in row.values())
    assert set(rows["record_id"]) == {"U7K2QH"}


def test_a_heart_rate_day_explodes_to_one_row_per_sample(fmt):
    rows = fmt.rows("oura", [("heartrate", HR_DAY)]).sort("time")
    assert rows.select("time", "value", "tz_offset_s").rows() == [
        (utc(2025, 3, 11, 12, 31, 21), 61.0, 0),
        (utc(2025, 3, 11, 13, 22, 15), 54.0, 0),
    ]
    assert set(rows["record_id"]) == {"heartrate:2025-03-11"}
    assert set(rows["indicator"]) == {"heart_rate"} and rows["end_time"].null_count() == 2


def test_heart_rate_epoch_milliseconds_give_the_same_rows_as_the_strings(fmt):
    with_ms = {
        "day": HR_DAY["day"],
        "data": [
            r | {"timestamp_unix": int(datetime.fromisoformat(r["timestamp"]).timestamp() * 1000)}
            for r in HR_DAY["data"]
        ],
    }
    parsed = fmt.rows("oura", [("heartrate", HR_DAY)]).sort("time")
    assert fmt.rows("oura", [("heartrate", with_ms)]).sort("time").equals(parsed)
    # one row without the epoch, or a non-UTC stamp, and every string is parsed instead
    partly = {"day": HR_DAY["day"], "data": [with_ms["data"][0], HR_DAY["data"][1]]}
    assert fmt.rows("oura", [("heartrate", partly)]).sort("time").equals(parsed)
    local = {
        "day": HR_DAY["day"],
        "data": [r | {"timestamp": "2025-03-11T14:31:21+02:00"} for r in with_ms["data"][:1]],
    }
    assert fmt.rows("oura", [("heartrate", local)]).select("time", "tz_offset_s").rows() == [
        (utc(2025, 3, 11, 12, 31, 21), 7200)
    ]


def test_heart_rate_rows_stored_one_sample_each_still_format(fmt):
    sample = HR_DAY["data"][0]
    legacy = make_record(
        "oura", "u1", "heartrate", sample["timestamp"], None, date(2025, 3, 11), sample
    )
    rows = fmt.provider("oura").format(raw_frame([legacy]))
    assert rows.select("time", "value").rows() == [(utc(2025, 3, 11, 12, 31, 21), 61.0)]


@pytest.mark.parametrize("record_type", sorted(DOCUMENTED))
def test_every_spec_field_of_the_new_types_is_mapped_or_ignored(fmt, coverage, record_type):
    mapping = fmt.provider("oura").mappings[record_type]
    doc = dict.fromkeys(DOCUMENTED[record_type].split(), 0)
    assert coverage(mapping.known_paths(), doc) == set()
    assert all(reason for reason in mapping.ignored.values())


def test_every_heart_rate_sample_field_is_mapped_or_ignored(fmt):
    mapping = fmt.provider("oura").mappings["heartrate"]
    assert {"data.timestamp", "data.source", "data.timestamp_unix"} <= set(mapping.ignored)
    assert [f.path for f in mapping.fields] == ["bpm"]


# --- the sandbox over HTTP --------------------------------------------------------------------
async def _get(provider, connection, path: str, **params: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(
            f"{provider.url('api')}/{path}",
            params=params,
            headers={"Authorization": f"Bearer {connection.tokens.access_token}"},
        )


async def _collection(provider, connection, kind: str, first: str, last: str) -> list[dict]:
    docs, token = [], None
    while True:
        params = {"start_date": first, "end_date": last} | ({"next_token": token} if token else {})
        page = (await _get(provider, connection, kind, **params)).json()
        assert set(page) == {"data", "next_token"}
        docs += page["data"]
        token = page["next_token"]
        if token is None:
            return docs


@pytest.mark.anyio
async def test_sandbox_serves_the_new_collections_on_their_real_paths(link, registry):
    oura = registry.get("oura")
    connection = await link(oura)
    sessions = await _collection(oura, connection, "session", "2025-01-01", "2025-02-16")
    assert len(sessions) > 10  # more than one page of 10
    for doc in sessions:
        assert {"id", "meta", "day", "start_datetime", "end_datetime", "type"} <= set(doc)
        assert doc["type"] in oura_sandbox.SESSION_TYPES
        for series in ("heart_rate", "heart_rate_variability", "motion_count"):
            assert set(doc[series]) == {"interval", "items", "timestamp"}
    stress = await _collection(oura, connection, "daily_stress", "2025-02-03", "2025-02-16")
    assert all(
        set(d) == {"id", "meta", "day", "stress_high", "recovery_high", "day_summary"}
        for d in stress
    )
    assert {d["day_summary"] for d in stress} <= {"restored", "normal", "stressful"}
    vo2 = await _collection(oura, connection, "vO2_max", "2025-02-03", "2025-02-16")
    assert vo2 and {d["vo2_max"] for d in vo2} == {46}
    ages = await _collection(
        oura, connection, "daily_cardiovascular_age", "2025-02-03", "2025-02-16"
    )
    assert ages and all(isinstance(d["vascular_age"], int) for d in ages)
    assert (await _get(oura, connection, "vo2_max")).status_code == 404  # capital O only
    one = await _get(oura, connection, f"session/{sessions[0]['id']}")
    assert one.json() == sessions[0]
    profile = (await _get(oura, connection, "personal_info")).json()
    assert set(profile) == {"id", "age", "weight", "height", "biological_sex", "email"}


@pytest.mark.anyio
async def test_pulled_new_types_format_without_quarantine(link, registry):
    oura = registry.get("oura")
    connection = await link(oura)
    types = ("session", "daily_stress", "vO2_max", "daily_cardiovascular_age", "personal_info")
    raw = await oura.pull(connection, WINDOW, MemoryTokenStore(), record_types=types)
    assert set(raw["record_type"]) == set(types)
    assert raw.filter(pl.col("record_type") == "personal_info").height == 1
    formatted = oura.format_split(raw)
    assert formatted.quarantine.height == 0, formatted.quarantine
    found = set(formatted.values["indicator"])
    assert {
        "mindfulness_duration",
        "hrv_rmssd",
        "stress_duration_high",
        "recovery_duration_high",
        "vo2max",
        "cardiovascular_age",
        "weight",
        "height",
    } <= found
    ada = PERSONS["ada"]
    weight = formatted.values.filter(pl.col("indicator") == "weight")["value"].to_list()
    assert weight == [ada.weight_kg]


@pytest.mark.anyio
async def test_a_vo2_max_webhook_fetches_the_document_it_names(link, registry, sandbox):
    oura = registry.get("oura")
    connection = await link(oura)
    vo2 = await _collection(oura, connection, "vO2_max", "2025-02-03", "2025-02-16")
    headers, body = oura_sandbox.webhook(
        sandbox.cloud["oura"], PERSONS["ada"], "vo2_max", vo2[0]["id"]
    )
    oura.verify_webhook(headers, body)
    requests = oura.parse_webhook(headers, body)
    assert [r.record_type for r in requests] == ["vO2_max"]
    raw = await oura.pull_requested(connection, requests, MemoryTokenStore())
    assert raw["vendor_id"].to_list() == [vo2[0]["id"]]
    assert raw["version"].to_list() == ["1"]


# --- heart rate: one raw record per UTC day ---------------------------------------------------
async def _rows_as_sent(oura, connection, window: Window) -> list[dict]:
    rows, token = [], None
    while True:
        params = {
            "start_datetime": window.start.isoformat(),
            "end_datetime": window.end.isoformat(),
        } | ({"next_token": token} if token else {})
        page = (await _get(oura, connection, "heartrate", **params)).json()
        rows += page["data"]
        token = page["next_token"]
        if token is None:
            return rows


@pytest.mark.anyio
async def test_heart_rate_is_one_raw_record_per_utc_day_with_every_sample(link, registry):
    oura = registry.get("oura")
    connection = await link(oura)
    window = Window.for_days(date(2025, 2, 3), date(2025, 2, 5))
    raw = await oura.pull(connection, window, MemoryTokenStore(), record_types=("heartrate",))
    assert raw["vendor_id"].to_list() == [
        "heartrate:2025-02-03",
        "heartrate:2025-02-04",
        "heartrate:2025-02-05",
    ]
    assert raw["day"].to_list() == [date(2025, 2, 3), date(2025, 2, 4), date(2025, 2, 5)]
    sent = await _rows_as_sent(oura, connection, window)
    stored = [row for payload in raw["payload"] for row in json.loads(payload)["data"]]
    assert stored == sent  # every sample exactly as sent, in timestamp order
    for payload, day in zip(raw["payload"], raw["day"], strict=True):
        doc = json.loads(payload)
        assert doc["day"] == day.isoformat() and len(doc["data"]) == 288  # was 288 records
        assert {r["timestamp"][:10] for r in doc["data"]} == {day.isoformat()}
    assert {"sleep", "session", "awake"} <= {r["source"] for r in sent}


@pytest.mark.anyio
async def test_a_window_cut_mid_day_still_stores_whole_days(link, registry):
    oura = registry.get("oura")
    connection = await link(oura)
    window = Window(utc(2025, 2, 3, 6), utc(2025, 2, 4, 18))
    raw = await oura.pull(connection, window, MemoryTokenStore(), record_types=("heartrate",))
    assert [len(json.loads(p)["data"]) for p in raw["payload"]] == [288, 288]


@pytest.mark.anyio
async def test_day_records_format_to_the_same_rows_as_one_record_per_sample(link, registry):
    oura = registry.get("oura")
    connection = await link(oura)
    window = Window.for_days(date(2025, 2, 3), date(2025, 2, 4))
    raw = await oura.pull(connection, window, MemoryTokenStore(), record_types=("heartrate",))
    sent = await _rows_as_sent(oura, connection, window)
    per_sample = raw_frame(  # the shape stored before: one record per row, keyed by time
        make_record(
            "oura",
            connection.user_id,
            "heartrate",
            row["timestamp"],
            None,
            datetime.fromisoformat(row["timestamp"]).date(),
            row,
        )
        for row in sent
    )
    assert (raw.height, per_sample.height) == (2, 576)
    key = ["user_id", "indicator", "time", "end_time", "tz_offset_s", "value", "unit", "source"]
    grouped = oura.format_split(raw).values.select(key).sort("time")
    assert grouped.equals(oura.format_split(per_sample).values.select(key).sort("time"))


@pytest.mark.anyio
async def test_heart_rate_sync_request_pulls_its_days(link, registry):
    oura = registry.get("oura")
    connection = await link(oura)
    request = SyncRequest("oura", "U7K2QH", "heartrate", day=date(2025, 2, 10))
    raw = await oura.pull_requested(connection, [request], MemoryTokenStore())
    assert raw["vendor_id"].to_list() == [f"heartrate:2025-02-{d:02d}" for d in (9, 10, 11)]


@pytest.fixture
def stored_user(engine):
    with engine.begin() as conn:
        user = conn.execute(
            text("INSERT INTO users (email) VALUES (:e) RETURNING id::text"),
            {"e": f"oura-{uuid.uuid4().hex[:8]}@example.test"},
        ).scalar_one()
    yield user
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE id = CAST(:u AS uuid)"), {"u": user})


@pytest.mark.anyio
async def test_repulled_days_dedupe_and_a_grown_day_replaces_its_earlier_version(
    link, registry, engine, stored_user
):
    oura = registry.get("oura")
    connection = await link(oura)
    connection = type(connection)(connection.id, stored_user, "oura", connection.tokens)
    window = Window.for_days(date(2025, 2, 3), date(2025, 2, 4))
    days = [date(2025, 2, 3), date(2025, 2, 4)]
    raw = await oura.pull(connection, window, MemoryTokenStore(), record_types=("heartrate",))
    # Earlier in the day of 2025-02-04 only its first 100 samples had synced.
    early = json.loads(raw["payload"][1])
    partial = make_record(
        "oura",
        stored_user,
        "heartrate",
        "heartrate:2025-02-04",
        None,
        days[1],
        early | {"data": early["data"][:100]},
    )
    with engine.begin() as conn:
        assert insert_raw_records(conn, raw_frame([partial])) == 1
    with engine.begin() as conn:
        assert insert_raw_records(conn, raw) == 2  # 2 raw rows for 2 user-days (was 576)
    again = await oura.pull(connection, window, MemoryTokenStore(), record_types=("heartrate",))
    with engine.begin() as conn:
        assert insert_raw_records(conn, again) == 0  # unchanged days: nothing new
        latest = load_latest_raw(conn, [stored_user], days, ["oura"], margin_days=0)
    assert latest["vendor_id"].to_list() == ["heartrate:2025-02-03", "heartrate:2025-02-04"]
    assert [len(json.loads(p)["data"]) for p in latest["payload"]] == [288, 288]
    rows = oura.format_split(latest)
    assert rows.quarantine.height == 0 and rows.values.height == 576
    assert rows.values["time"].min() == utc(2025, 2, 3)
    assert rows.values["time"].max() == utc(2025, 2, 4) + timedelta(hours=23, minutes=55)
