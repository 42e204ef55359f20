"""Oura API v2 emulator: `{data, next_token}` collections by inclusive `start_date`/`end_date`,
heart-rate rows by `start_datetime`/`end_datetime`, ISO times with the local offset, seconds and
kcal, single-use refresh tokens, webhooks signed hex(HMAC-SHA256(timestamp + body)).

Sessions, daily stress, VO2max and cardiovascular age are not in the shared physiology: they
are derived here from the day's truth (so each day renders the same way every time)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from providers.sandbox.cloud import VendorState, iso_local, iso_z, stable_id
from providers.sandbox.oauth_routes import add_authorize_route, add_token_route
from providers.sandbox.physiology import (
    DayTruth,
    Person,
    SleepTruth,
    days_between,
    heart_rate,
    night_hrv,
)

PAGE = 10
PROFILE_AGE = 34
HR_PAGE = 500
DOC_TYPES = (
    "daily_activity",
    "sleep",
    "daily_sleep",
    "daily_readiness",
    "daily_spo2",
    "workout",
    "session",
    "daily_stress",
    "vO2_max",
    "daily_cardiovascular_age",
)
# The Moment of each weekday (Monday first): mostly mindful ones, a nap on Sundays.
SESSION_TYPES = ("meditation", "breathing", "meditation", "relaxation", "rest", "meditation", "nap")
SAMPLE_S = 5  # Oura session series are sampled every 5 seconds
NIGHT_STEP_S = 300  # sleep heart rate and HRV: one item per 5 minutes
# Garmin's sandbox renders the same person's high-stress time as a fixed half hour a day.
STRESS_HIGH_S = 1800


def _meta(t: DayTruth) -> dict[str, Any]:
    """The 2026 spec's `meta`: updated the morning after (version 1, UTC)."""
    return {"updated_at": iso_z(t.local_midnight + 86400 + 6 * 3600), "version": 1}


def session_window(t: DayTruth) -> tuple[int, int] | None:
    """(start, end) epoch seconds of the day's session: half an hour after waking, 5 to
    12.5 minutes long (by the day's readiness); none when the ring was off."""
    if t.sleep is None:
        return None
    start = t.sleep.end + 1800
    end = start + 300 + (t.readiness_score % 4) * 150
    return (start, end) if end <= t.until else None


def _sample(start: int, off: int, items: list[float | None]) -> dict[str, Any]:
    return {"interval": float(SAMPLE_S), "items": items, "timestamp": iso_local(start, off, True)}


def _session(person: Person, t: DayTruth, doc_id: str) -> list[dict[str, Any]]:
    window = session_window(t)
    if window is None or t.sleep is None:
        return []
    start, end = window
    off, n = person.tz_offset_s, (end - start) // SAMPLE_S
    hrv = t.sleep.avg_hrv_ms
    return [
        {
            "id": doc_id,
            "day": t.day.isoformat(),
            "meta": _meta(t),
            "type": SESSION_TYPES[t.day.weekday()],
            "start_datetime": iso_local(start, off),
            "end_datetime": iso_local(end, off),
            "mood": ("good", "same", "great", None)[t.readiness_score % 4],
            "heart_rate": _sample(
                start, off, [float(heart_rate(person, start + i * SAMPLE_S)) for i in range(n)]
            ),
            # RMSSD rises as the session relaxes; every 20th item is a dropout (null)
            "heart_rate_variability": _sample(
                start,
                off,
                [None if i % 20 == 7 else round(hrv * (1.0 + 0.002 * i), 1) for i in range(n)],
            ),
            "motion_count": _sample(start, off, [float(i % 3) for i in range(n)]),
        }
    ]


def _night_series(s: SleepTruth, off: int, value: Callable[[int], int]) -> dict[str, Any]:
    """A sleep period's 5-minute series from bedtime to rising; every 20th item is a dropout
    (null), as when the ring lost contact."""
    stamps = range(s.start, s.end, NIGHT_STEP_S)
    return {
        "interval": float(NIGHT_STEP_S),
        "timestamp": iso_local(s.start, off, True),
        "items": [None if i % 20 == 13 else float(value(ts)) for i, ts in enumerate(stamps)],
    }


def _more(kind: str, person: Person, t: DayTruth, doc_id: str) -> list[dict[str, Any]]:
    """The record types beyond the shared physiology (see the module docstring)."""
    if kind == "session":
        return _session(person, t, doc_id)
    base = {"id": doc_id, "day": t.day.isoformat(), "meta": _meta(t)}
    if t.activity is None:
        return []
    if kind == "daily_stress":
        if t.pending:
            return [base | {"stress_high": None, "recovery_high": None, "day_summary": None}]
        recovery = (t.readiness_score - 40) * 60
        summary = (
            "stressful"
            if recovery < STRESS_HIGH_S
            else "restored"
            if recovery > 2 * STRESS_HIGH_S
            else "normal"
        )
        return [
            base | {"stress_high": STRESS_HIGH_S, "recovery_high": recovery, "day_summary": summary}
        ]
    if kind == "vO2_max":  # estimated after a workout
        if t.workout is None:
            return []
        done = t.workout.start + t.workout.duration_s
        return [
            base
            | {"timestamp": iso_local(done, person.tz_offset_s), "vo2_max": round(person.vo2max)}
        ]
    if kind == "daily_cardiovascular_age":
        age = None if t.pending else PROFILE_AGE + round((person.resting_hr - 55) / 2)
        return [base | {"vascular_age": age}]
    raise HTTPException(404, f"unknown collection {kind}")


def render(kind: str, person: Person, t: DayTruth) -> list[dict[str, Any]]:
    s, a, w, off = t.sleep, t.activity, t.workout, person.tz_offset_s
    doc_id = stable_id("oura", kind, person.key, t.day)
    day = t.day.isoformat()
    if kind in ("session", "daily_stress", "vO2_max", "daily_cardiovascular_age"):
        return _more(kind, person, t, doc_id)
    if kind == "workout":
        if w is None:
            return []
        return [
            {
                "id": doc_id,
                "activity": w.sport,
                "calories": float(w.kcal),
                "day": day,
                "distance": float(w.distance_m),
                "start_datetime": iso_local(w.start, off),
                "end_datetime": iso_local(w.start + w.duration_s, off),
                "intensity": "hard",
                "label": None,
                "source": "confirmed",
            }
        ]
    if s is None or a is None:
        return []
    if kind == "daily_activity":
        return [
            {
                "id": doc_id,
                "day": day,
                "timestamp": iso_local(t.local_midnight + 4 * 3600, off),
                "score": None if t.pending else a.score,
                "steps": a.steps,
                "active_calories": a.active_kcal,
                "total_calories": a.total_kcal,
                "target_calories": 550,
                "equivalent_walking_distance": a.distance_m,
                "meters_to_target": 0,
                "target_meters": 10000,
                "high_activity_time": a.vigorous_s,
                "medium_activity_time": a.moderate_s,
                "low_activity_time": a.light_s,
                "sedentary_time": a.sedentary_s,
                "resting_time": 28800,
                "non_wear_time": 0,
                "high_activity_met_minutes": 230,
                "medium_activity_met_minutes": 210,
                "low_activity_met_minutes": 190,
                "sedentary_met_minutes": 12,
                "average_met_minutes": 1.71,
                "inactivity_alerts": 1,
                "class_5_min": "1111222334",
                "met": {
                    "interval": 60.0,
                    "items": [0.9, 1.2],
                    "timestamp": iso_local(t.local_midnight + 4 * 3600, off, True),
                },
                "contributors": {"meet_daily_targets": 100, "move_every_hour": 95},
            }
        ]
    if kind == "sleep":
        return [
            {
                "id": doc_id,
                "day": day,
                "type": "long_sleep",
                "period": 0,
                "bedtime_start": iso_local(s.start, off),
                "bedtime_end": iso_local(s.end, off),
                "time_in_bed": s.in_bed_s,
                "total_sleep_duration": s.asleep_s,
                "awake_time": s.awake_s,
                "light_sleep_duration": s.light_s,
                "deep_sleep_duration": s.deep_s,
                "rem_sleep_duration": s.rem_s,
                "latency": s.latency_s,
                "efficiency": round(s.asleep_s / s.in_bed_s * 100),
                "average_breath": s.resp_rate,
                "average_heart_rate": s.avg_hr,
                "lowest_heart_rate": s.lowest_hr,
                "average_hrv": s.avg_hrv_ms,
                "heart_rate": _night_series(s, off, lambda ts: heart_rate(person, ts)),
                "hrv": _night_series(s, off, lambda ts: night_hrv(s, ts)),
                "sleep_phase_5_min": "4422211113322",
                "movement_30_sec": "1112111211",
                "restless_periods": s.disturbances * 12,
                "readiness": None
                if t.pending
                else {
                    "score": t.readiness_score,
                    "temperature_deviation": s.skin_temp_dev_c,
                    "temperature_trend_deviation": 0.04,
                    "contributors": {},
                },
                "readiness_score_delta": 0,
                "sleep_score_delta": 0,
                "low_battery_alert": False,
                "sleep_algorithm_version": "v2",
            }
        ]
    midnight_utc = f"{day}T00:00:00+00:00"
    if kind == "daily_sleep":
        return [
            {
                "id": doc_id,
                "day": day,
                "score": None if t.pending else s.score,
                "timestamp": midnight_utc,
                "contributors": {"deep_sleep": 91},
            }
        ]
    if kind == "daily_readiness":
        return [
            {
                "id": doc_id,
                "day": day,
                "score": None if t.pending else t.readiness_score,
                "timestamp": midnight_utc,
                "temperature_deviation": s.skin_temp_dev_c,
                "temperature_trend_deviation": 0.04,
                "contributors": {"hrv_balance": 71},
            }
        ]
    if kind == "daily_spo2":
        return [
            {
                "id": doc_id,
                "day": day,
                "spo2_percentage": {"average": s.spo2},
                "breathing_disturbance_index": s.disturbances // 2,
            }
        ]
    raise HTTPException(404, f"unknown collection {kind}")


def _hr_source(state: VendorState, person: Person) -> Callable[[int], str]:
    """The `source` label of a heart-rate row at epoch second `ts`: sleep, workout or
    session while one lasts (the night ending on day D starts on the evening before)."""
    spans: dict[date, list[tuple[int, int, str]]] = {}

    def of_day(day: date) -> list[tuple[int, int, str]]:
        if day not in spans:
            t = state.truth(person, day)
            found = [(t.sleep.start, t.sleep.end, "sleep")] if t.sleep else []
            if t.workout:
                found.append((t.workout.start, t.workout.start + t.workout.duration_s, "workout"))
            window = session_window(t)
            if window:
                found.append((*window, "session"))
            spans[day] = found
        return spans[day]

    def source(ts: int) -> str:
        local = datetime.fromtimestamp(ts + person.tz_offset_s, UTC).date()
        for day in (local, local + timedelta(days=1)):
            for lo, hi, label in of_day(day):
                if lo <= ts < hi:
                    return label
        return "awake"

    return source


def _page(items: list[Any], token: str | None, size: int) -> dict[str, Any]:
    offset = int(token) if token else 0
    nxt = str(offset + size) if offset + size < len(items) else None
    return {"data": items[offset : offset + size], "next_token": nxt}


def build(state: VendorState) -> FastAPI:
    app = FastAPI(title="Oura sandbox")

    add_authorize_route(app, state, "/oauth/authorize")
    add_token_route(
        app, state, "/oauth/token", lambda _, __: {"scope": "daily heartrate personal spo2 workout"}
    )

    @app.post("/oauth/revoke")
    def revoke(access_token: str) -> Response:
        state.oauth.revoke_access(access_token)
        return Response(status_code=200)

    @app.get("/v2/usercollection/personal_info")
    def personal_info(request: Request) -> dict[str, Any]:
        person = state.guard(request)
        return {
            "id": person.vendor_hex_id("oura")[:12],
            "age": PROFILE_AGE,
            "weight": person.weight_kg,
            "height": person.height_m,
            "biological_sex": "female",
            "email": f"{person.key}@sandbox.test",
        }

    @app.get("/v2/usercollection/heartrate")
    def heartrate(
        request: Request,
        start_datetime: str,
        end_datetime: str | None = None,
        next_token: str | None = None,
    ) -> JSONResponse:
        person = state.guard(request)
        lo = int(datetime.fromisoformat(start_datetime.replace("Z", "+00:00")).timestamp())
        hi = (
            int(datetime.fromisoformat(end_datetime.replace("Z", "+00:00")).timestamp())
            if end_datetime
            else lo + 86400
        )
        first = lo - lo % 300 + (300 if lo % 300 else 0)
        source = _hr_source(state, person)
        stamps = range(first, min(hi, lo + 31 * 86400, int(time.time()) + 1), 300)
        offset = int(next_token) if next_token else 0
        # Only this page's rows are generated (a month is ~9k rows, 18 pages).
        rows = [
            {
                "bpm": heart_rate(person, ts),
                "source": source(ts),
                "timestamp": iso_local(ts, 0),
                "timestamp_unix": ts * 1000,
            }
            for ts in stamps[offset : offset + HR_PAGE]
        ]
        more = offset + HR_PAGE < len(stamps)
        return JSONResponse({"data": rows, "next_token": str(offset + HR_PAGE) if more else None})

    @app.get("/v2/usercollection/{kind}/{doc_id}")
    def document(request: Request, kind: str, doc_id: str) -> JSONResponse:
        person = state.guard(request)
        if kind not in DOC_TYPES:
            raise HTTPException(404, "unknown collection")
        for day in days_between(state.today - timedelta(days=60), state.today):
            for doc in render(kind, person, state.truth(person, day)):
                if doc["id"] == doc_id:
                    return JSONResponse(doc)
        raise HTTPException(404, "no such document")

    @app.get("/v2/usercollection/{kind}")
    def collection(
        request: Request,
        kind: str,
        start_date: date | None = None,
        end_date: date | None = None,
        next_token: str | None = None,
    ) -> JSONResponse:
        person = state.guard(request)
        if kind not in DOC_TYPES:
            raise HTTPException(404, "unknown collection")
        last = min(end_date or state.today, state.today)
        first = start_date or last - timedelta(days=1)
        docs = [
            d
            for day in days_between(first, last)
            for d in render(kind, person, state.truth(person, day))
        ]
        return JSONResponse(_page(docs, next_token, PAGE))

    return app


def webhook(
    state: VendorState, person: Person, data_type: str, object_id: str, timestamp: int | None = None
) -> tuple[dict[str, str], bytes]:
    """A signed Oura webhook delivery: (headers, raw body)."""
    body = json.dumps(
        {
            "event_type": "update",
            "data_type": data_type,
            "object_id": object_id,
            "event_time": "2025-03-11T07:31:02+00:00",
            "user_id": person.vendor_hex_id("oura")[:12],
        }
    ).encode()
    ts = str(timestamp if timestamp is not None else int(time.time()))
    return {
        "x-oura-signature": state.sign(ts.encode() + body).hex().upper(),
        "x-oura-timestamp": ts,
        "content-type": "application/json",
    }, body
