"""Withings emulator: `{status, body}` envelopes on HTTP 200 (401 and 601 are in-body statuses),
form POSTs with `action=`, `offset` + `more` paging, `value * 10^unit` measures, epoch seconds
+ IANA timezone, comma-separated scopes, signed nonce-based revoke; notifications unsigned."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from providers.sandbox.cloud import VendorState
from providers.sandbox.oauth_routes import add_authorize_route
from providers.sandbox.oauth_server import OAuthRefusal
from providers.sandbox.physiology import (
    DayTruth,
    Person,
    SleepTruth,
    days_between,
    heart_rate,
    night_hrv,
)

PAGE = 10


def signature(secret: str, *parts: str) -> str:
    """Withings' request signature: hex HMAC-SHA256 over the comma-joined values."""
    return hmac.new(secret.encode(), ",".join(parts).encode(), hashlib.sha256).hexdigest()


def render(kind: str, person: Person, t: DayTruth) -> list[dict[str, Any]]:
    s, a, b, tz = t.sleep, t.activity, t.body, person.iana_tz
    if kind == "measure":
        if b is None:
            return []
        return [
            {
                "grpid": t.day.toordinal() * 10,
                "attrib": 0,
                "date": b.time,
                "created": b.time + 38,
                "modified": b.time + 38,
                "category": 1,
                "deviceid": "c9d1e2f3a4b5",
                "hash_deviceid": "c9d1e2f3a4b5",
                "model": "Body Cardio",
                "model_id": 6,
                "timezone": tz,
                "measures": [
                    {"value": round(b.weight_kg * 1000), "type": 1, "unit": -3},
                    {"value": round(b.fat_pct * 100), "type": 6, "unit": -2},
                    {"value": round(b.muscle_kg * 100), "type": 76, "unit": -2},
                    {"value": round(b.bone_kg * 100), "type": 88, "unit": -2},
                    {"value": heart_rate(person, b.time), "type": 11, "unit": 0},
                ],
            }
        ]
    if kind == "workouts":
        return [] if t.workout is None else [_workout(person, t)]
    if s is None or a is None:
        return []
    if kind == "activity":
        return [
            {
                "date": t.day.isoformat(),
                "timezone": tz,
                "deviceid": None,
                "hash_deviceid": None,
                "brand": 18,
                "is_tracker": False,
                "modified": t.local_midnight + 86400,
                "steps": a.steps,
                "distance": float(a.distance_m),
                "elevation": a.floors,
                "soft": a.light_s,
                "moderate": a.moderate_s,
                "intense": a.vigorous_s,
                "active": a.moderate_s + a.vigorous_s,
                "calories": float(a.active_kcal),
                "totalcalories": float(a.total_kcal),
                "hr_average": a.hr_avg,
                "hr_min": a.hr_min,
                "hr_max": a.hr_max,
                "hr_zone_0": 47000,
                "hr_zone_1": 5800,
                "hr_zone_2": 2460,
                "hr_zone_3": 180,
            }
        ]
    return [
        {
            "id": t.day.toordinal() * 7,
            "timezone": tz,
            "model": 32,
            "model_id": 63,
            "startdate": s.start,
            "enddate": s.end,
            "date": t.day.isoformat(),
            "created": s.end + 900,
            "modified": s.end + 900,
            "hash_deviceid": "ab12",
            "completed": not t.pending,
            "data": {
                "total_timeinbed": s.in_bed_s,
                "total_sleep_time": s.asleep_s,
                "asleepduration": s.asleep_s,
                "lightsleepduration": s.light_s,
                "deepsleepduration": s.deep_s,
                "remsleepduration": s.rem_s,
                "wakeupduration": s.awake_s,
                "sleep_latency": s.latency_s,
                "durationtosleep": s.latency_s,
                "wakeup_latency": 420,
                "durationtowakeup": 420,
                "waso": 1920,
                "wakeupcount": s.disturbances,
                "out_of_bed_count": 1,
                "nb_rem_episodes": s.cycles,
                "sleep_efficiency": round(s.asleep_s / s.in_bed_s, 2),
                "sleep_score": s.score,
                "hr_average": round(s.avg_hr),
                "hr_min": s.lowest_hr,
                "hr_max": s.lowest_hr + 25,
                "rr_average": round(s.resp_rate),
                "rr_min": 11,
                "rr_max": 19,
                "breathing_disturbances_intensity": 9,
                "snoring": 840,
                "snoringepisodecount": 3,
                "apnea_hypopnea_index": s.disturbances // 2,
                "rmssd_start_avg": night_hrv(s, s.start),
                "rmssd_end_avg": night_hrv(s, s.end),
            },
        }
    ]


def _workout(person: Person, t: DayTruth) -> dict[str, Any]:
    w, s = t.workout, t.sleep
    assert w is not None
    end = w.start + w.duration_s
    running = w.sport == "running"
    return {
        "id": t.day.toordinal() * 11,
        "category": 2 if running else 6,
        "timezone": person.iana_tz,
        "model": 93,
        "attrib": 7,
        "startdate": w.start,
        "enddate": end,
        "date": t.day.isoformat(),
        "modified": end + 600,
        "deviceid": "e4f5a6b7c8d9",
        "data": {
            "calories": w.kcal,
            "intensity": 0,
            "manual_intensity": 0,
            "manual_distance": 0,
            "manual_calories": 0,
            "hr_average": w.avg_hr,
            "hr_min": round(person.resting_hr + 30),
            "hr_max": w.max_hr,
            "hr_zone_0": w.duration_s // 10,
            "hr_zone_1": w.duration_s // 5,
            "hr_zone_2": w.duration_s // 2,
            "hr_zone_3": w.duration_s // 5,
            "pause_duration": 0,
            "algo_pause_duration": 0,
            "spo2_average": round(s.spo2) if s else 97,
            "steps": int(w.duration_s * 2.8) if running else 0,
            "distance": w.distance_m,
            "elevation": round(w.elevation_gain_m / 3),
            "pool_laps": 0,
            "pool_length": 0,
            "strokes": 0,
            "core_body_temperature_avg": 37.9,
            "core_body_temperature_min": 37.1,
            "core_body_temperature_max": 38.6,
            "core_body_temperature_status": "usual",
        },
    }


EPOCH_S = 600  # the emulated watch's epoch for steps and heart rate


def _night_samples(person: Person, s: SleepTruth) -> dict[int, dict[str, Any]]:
    """The night's SpO2 (hourly from bedtime) and HRV (at bedtime, +5 and +10 min): the same
    instants and values the Garmin and Oura emulators give, so cross-vendor samples meet."""
    out: dict[int, dict[str, Any]] = {}
    for ts in range(s.start, s.end, 3600):
        out[ts] = {"spo2_auto": round(s.spo2), "rr": round(s.resp_rate)}
    for ts in (s.start, s.start + 300, s.start + 600):
        hrv = night_hrv(s, ts)
        out.setdefault(ts, {}).update({"rmssd": hrv, "sdnn1": hrv + 9, "hrv_quality": 3})
    return out


def intraday(
    person: Person,
    truth: Callable[[date], DayTruth],
    today: date,
    start: int,
    end: int,
    fields: set[str] | None,
) -> dict[str, dict[str, Any]]:
    """`series` of getintradayactivity: the first 24 h after `start` only, as Withings does."""
    end = min(end, start + 86400 - 1)
    first = datetime.fromtimestamp(start + person.tz_offset_s, UTC).date() - timedelta(days=1)
    last = min(
        today, datetime.fromtimestamp(end + person.tz_offset_s, UTC).date() + timedelta(days=1)
    )
    entries: dict[int, dict[str, Any]] = {}
    for day in days_between(first, last):
        t = truth(day)
        if t.sleep is not None:
            for ts, values in _night_samples(person, t.sleep).items():
                entries.setdefault(ts, {}).update(values)
        if t.activity is None:
            continue
        per_epoch = t.activity.steps // 96  # spread over 07:00-23:00 local
        for ts in range(t.local_midnight, min(t.local_midnight + 86400, t.until + 1), EPOCH_S):
            awake = 7 * 3600 <= ts - t.local_midnight < 23 * 3600
            entries.setdefault(ts, {}).update(
                {"duration": EPOCH_S}
                | (
                    {
                        "steps": per_epoch,
                        "distance": round(per_epoch * 0.76, 1),
                        "calories": round(per_epoch * 0.045, 2),
                        "elevation": 0,
                    }
                    if awake
                    else {}
                )
            )
    series = {}
    for ts in sorted(entries):
        if start <= ts <= end:
            doc = {
                "deviceid": "e4f5a6b7c8d9",
                "model": "ScanWatch",
                "model_id": 93,
                "heart_rate": heart_rate(person, ts),
            } | entries[ts]
            series[str(ts)] = {
                k: v
                for k, v in doc.items()
                if fields is None or k in fields or k in ("deviceid", "model", "model_id")
            }
    return series


def _ok(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"status": 0, "body": body})


def build(state: VendorState) -> FastAPI:
    app = FastAPI(title="Withings sandbox")
    nonces: set[str] = set()  # issued by /v2/signature, spent by the token request

    @app.exception_handler(HTTPException)
    async def in_body_status(request: Request, exc: HTTPException) -> Response:
        # Withings answers HTTP 200 with the error in `status`: 401 auth, 601 too many requests.
        if exc.status_code >= 500:
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        status = {401: 401, 429: 601}.get(exc.status_code, 503)
        return JSONResponse({"status": status, "body": {}, "error": str(exc.detail)})

    add_authorize_route(app, state, "/oauth2_user/authorize2")

    @app.post("/v2/signature")
    async def nonce(request: Request) -> JSONResponse:
        form = {k: str(v) for k, v in (await request.form()).items()}
        expected = signature(
            state.oauth.client_secret,
            "getnonce",
            form.get("client_id", ""),
            form.get("timestamp", ""),
        )
        if not hmac.compare_digest(expected, form.get("signature", "")):
            return JSONResponse({"status": 503, "body": {}, "error": "bad signature"})
        value = secrets.token_hex(16)
        nonces.add(value)
        return _ok({"nonce": value})

    @app.post("/v2/oauth2")
    async def oauth2(request: Request) -> JSONResponse:
        form = {k: str(v) for k, v in (await request.form()).items()}
        if form.get("action") == "revoke":
            expected = signature(
                state.oauth.client_secret,
                "revoke",
                form.get("client_id", ""),
                form.get("nonce", ""),
            )
            if form.get("nonce") not in nonces or not hmac.compare_digest(
                expected, form.get("signature", "")
            ):
                return JSONResponse({"status": 503, "body": {}, "error": "bad signature"})
            nonces.discard(form["nonce"])
            return _ok({})
        try:
            if form.get("action") != "requesttoken":
                raise OAuthRefusal("invalid_request", "unknown action")
            state.oauth.check_client(form.get("client_id"), form.get("client_secret"))
            if form.get("grant_type") == "refresh_token":
                person, body = state.oauth.rotate(form)
            else:
                person, body = state.oauth.exchange(form)
        except OAuthRefusal as refusal:
            return JSONResponse(
                {
                    "status": 503 if refusal.error == "invalid_grant" else 100,
                    "body": {},
                    "error": f"{refusal.error}: {refusal.description}",
                }
            )
        return _ok(
            body
            | {
                "userid": person.vendor_int_id("withings"),
                "scope": "user.info,user.metrics,user.activity",
                "csrf_token": secrets.token_hex(8),
            }
        )

    def collect(
        request: Request,
        kind: str,
        first: date,
        last: date,
        offset: int,
        key: str,
        fields: set[str] | None = None,
    ) -> JSONResponse:
        person = state.guard(request)
        last = min(last, state.today)
        docs = [
            d
            for day in days_between(first, last)
            for d in render(kind, person, state.truth(person, day))
        ]
        if fields is not None:  # most fields come only when listed in data_fields
            docs = [d | {"data": {k: v for k, v in d["data"].items() if k in fields}} for d in docs]
        more = offset + PAGE < len(docs)
        body: dict[str, Any] = {
            key: docs[offset : offset + PAGE],
            "more": more,
            "offset": offset + PAGE if more else 0,
        }
        if kind == "measure":
            body |= {"updatetime": 1741690000, "timezone": person.iana_tz, "more": int(more)}
            for group in body[key]:
                group.pop("timezone")  # only the envelope names the timezone
        return _ok(body)

    @app.post("/measure")
    async def measure(request: Request) -> JSONResponse:
        form = {k: str(v) for k, v in (await request.form()).items()}
        first = datetime.fromtimestamp(int(form["startdate"]), UTC).date()
        last = datetime.fromtimestamp(int(form["enddate"]), UTC).date()
        return collect(request, "measure", first, last, int(form.get("offset", 0)), "measuregrps")

    @app.post("/v2/measure")
    async def measure_v2(request: Request) -> JSONResponse:
        form = {k: str(v) for k, v in (await request.form()).items()}
        action = form.get("action")
        fields = set(form["data_fields"].split(",")) if form.get("data_fields") else None
        if action == "getintradayactivity":
            person = state.guard(request)
            end = int(form.get("enddate", 0)) or int(datetime.now(UTC).timestamp())
            start = int(form.get("startdate", 0)) or end - 86400
            return _ok(
                {
                    "series": intraday(
                        person, lambda d: state.truth(person, d), state.today, start, end, fields
                    )
                }
            )
        if action not in ("getactivity", "getworkouts"):
            raise HTTPException(400, f"unknown action {action!r}")
        kind, key = (
            ("activity", "activities") if action == "getactivity" else ("workouts", "series")
        )
        return collect(
            request,
            kind,
            date.fromisoformat(form["startdateymd"]),
            date.fromisoformat(form["enddateymd"]),
            int(form.get("offset", 0)),
            key,
            fields if kind == "workouts" else None,
        )

    @app.post("/v2/sleep")
    async def sleep(request: Request) -> JSONResponse:
        form = {k: str(v) for k, v in (await request.form()).items()}
        return collect(
            request,
            "sleep",
            date.fromisoformat(form["startdateymd"]),
            date.fromisoformat(form["enddateymd"]),
            int(form.get("offset", 0)),
            "series",
        )

    return app


def notification(person: Person, appli: int, start: int, end: int) -> tuple[dict[str, str], bytes]:
    """A Withings notification: an unsigned form POST naming what changed."""
    body = (
        f"userid={person.vendor_int_id('withings')}&appli={appli}&startdate={start}&enddate={end}"
    ).encode()
    return {"content-type": "application/x-www-form-urlencoded"}, body
