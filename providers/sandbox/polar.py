"""Polar AccessLink v3 emulator: HTTP Basic token call, no refresh token, mandatory user
registration (409 on repeat), bare arrays and wrapper keys (`nights`, `recharges`), ISO
durations, local exercise times + offset minutes, "HH:mm"-keyed samples, RateLimit-* headers
and webhooks signed hex(HMAC-SHA256(body, signature_secret_key))."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from providers.sandbox.cloud import SANDBOX_CREDENTIALS, VendorState, iso_local, iso_z, oauth_error
from providers.sandbox.oauth_routes import add_authorize_route
from providers.sandbox.oauth_server import OAuthRefusal
from providers.sandbox.physiology import DayTruth, Person, days_between, heart_rate, night_hrv
from providers.sandbox.polar_biosensing import biosensing, continuous_hr, user_url

WEBHOOK_SECRET = SANDBOX_CREDENTIALS["polar"]["webhook_secret"]


def rate_headers(state: VendorState, wait: float | None) -> dict[str, str]:
    limit = state.budget.limit if state.budget else 520
    used = limit - (state.budget.remaining() if state.budget else limit)
    return {
        "RateLimit-Usage": str(used),
        "RateLimit-Limit": str(limit),
        "RateLimit-Reset": str(max(1, round(wait or 900))),
    }


def _duration(seconds: int) -> str:
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"PT{h}H{m}M{s}S" if h else f"PT{m}M{s}S"


def _clock(epoch: int, offset_s: int) -> str:
    minutes = ((epoch + offset_s) % 86400) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def render(kind: str, person: Person, t: DayTruth) -> list[dict[str, Any]]:
    s, a, w, off = t.sleep, t.activity, t.workout, person.tz_offset_s
    polar_user = user_url(person)
    if kind == "exercises":
        if w is None:
            return []
        return [
            {
                "id": base64.urlsafe_b64encode(f"{person.key}{t.day}".encode()).decode()[:12],
                "upload_time": iso_z(w.start + w.duration_s + 600),
                "polar_user": polar_user,
                "device": "Polar Vantage V3",
                "device_id": "C2A91F3E",
                "start_time": iso_local(w.start, off)[:19],
                "start_time_utc_offset": off // 60,
                "duration": _duration(w.duration_s),
                "calories": w.kcal,
                "distance": float(w.distance_m),
                "heart_rate": {"average": w.avg_hr, "maximum": w.max_hr},
                "training_load": 142.7,
                "sport": w.sport.upper(),
                "detailed_sport_info": w.sport.upper(),
                "has_route": True,
            }
        ]
    if s is None or a is None:
        return []
    day = t.day.isoformat()
    if kind == "activities":
        return [
            {
                "start_time": f"{day}T00:00:00",
                "end_time": f"{day}T23:59:59",
                "active_duration": _duration(a.moderate_s + a.vigorous_s + a.light_s),
                "inactive_duration": _duration(a.sedentary_s),
                "daily_activity": 104.2,
                "calories": a.total_kcal,
                "active_calories": a.active_kcal,
                "steps": a.steps,
                "inactivity_alert_count": 1,
                "distance_from_steps": float(a.distance_m),
            }
        ]
    asleep_at = s.start + s.latency_s
    if kind == "sleep":
        # keys are minutes: the sample belongs to the start of its minute
        minutes = [ts - (ts + off) % 60 for ts in range(asleep_at, s.end, 1800)]
        hr = {_clock(ts, off): heart_rate(person, ts) for ts in minutes}
        return [
            {
                "polar_user": polar_user,
                "date": day,
                "sleep_start_time": iso_local(asleep_at, off),
                "sleep_end_time": iso_local(s.end, off),
                "device_id": "C2A91F3E",
                "continuity": 3.4,
                "continuity_class": 3,
                "light_sleep": s.light_s,
                "deep_sleep": s.deep_s,
                "rem_sleep": s.rem_s,
                "unrecognized_sleep_stage": 0,
                "sleep_score": s.score,
                "total_interruption_duration": s.awake_s - s.latency_s,
                "sleep_charge": 3,
                "sleep_goal": 28800,
                "sleep_rating": 0,
                "short_interruption_duration": 750,
                "long_interruption_duration": 1440,
                "sleep_cycles": s.cycles,
                "group_duration_score": 88.0,
                "group_solidity_score": 71.5,
                "group_regeneration_score": 62.0,
                "hypnogram": {_clock(asleep_at, off): 2},
                "heart_rate_samples": hr,
            }
        ]
    if kind == "nightly-recharge":
        # 5-minute samples over the ANS window (about the first 4 hours asleep), keyed by
        # minute like the sleep's heart rate
        ans = [
            ts - (ts + off) % 60 for ts in range(asleep_at, min(s.end, asleep_at + 4 * 3600), 300)
        ]
        return [
            {
                "polar_user": polar_user,
                "date": day,
                "heart_rate_avg": round(s.avg_hr),
                "beat_to_beat_avg": 1071,
                "heart_rate_variability_avg": s.avg_hrv_ms,
                "breathing_rate_avg": s.resp_rate,
                "nightly_recharge_status": 4,
                "ans_charge": 1.8,
                "ans_charge_status": 3,
                "hrv_samples": {_clock(ts, off): night_hrv(s, ts) for ts in ans},
                "breathing_samples": {_clock(ts, off): s.resp_rate for ts in ans},
            }
        ]
    raise HTTPException(404, "unknown resource")


MAX_RANGE_DAYS = 28


def build(state: VendorState) -> FastAPI:
    app = FastAPI(title="Polar AccessLink sandbox")
    registered: set[str] = set()  # persons registered with this client (this sandbox only)

    add_authorize_route(app, state, "/oauth2/authorization")

    @app.post("/v2/oauth2/token")
    async def token(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        auth = request.headers.get("authorization", "")
        try:
            if not auth.lower().startswith("basic "):
                raise OAuthRefusal("invalid_client", "HTTP Basic client auth required", 401)
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            state.oauth.check_client(cid, secret)
            if form.get("grant_type") != "authorization_code":
                raise OAuthRefusal("unsupported_grant_type", "Polar has no refresh grant")
            person, body = state.oauth.exchange(form)
        except OAuthRefusal as refusal:
            return oauth_error(refusal)
        return JSONResponse(body | {"x_user_id": person.vendor_int_id("polar")})

    @app.post("/v3/users")
    async def register(request: Request) -> Response:
        person = state.guard(request)
        if person.key in registered:
            return Response(status_code=409)
        registered.add(person.key)
        member = (await request.json()).get("member-id")
        return JSONResponse(
            {
                "polar-user-id": person.vendor_int_id("polar"),
                "member-id": member,
                "registration-date": "2025-01-01T00:00:00",
            }
        )

    @app.delete("/v3/users/{user_id}")
    def deregister(request: Request, user_id: int) -> Response:
        person = state.guard(request)
        registered.discard(person.key)
        state.oauth.revoke_access(request.headers["authorization"][7:].strip())
        return Response(status_code=204)

    def recent(person: Person, kind: str, days: int) -> list[dict[str, Any]]:
        first = state.today - timedelta(days=days - 1)
        return [
            d
            for day in days_between(first, state.today)
            for d in render(kind, person, state.truth(person, day))
        ]

    @app.get("/v3/exercises")
    def exercises(request: Request) -> JSONResponse:
        return JSONResponse(recent(state.guard(request), "exercises", 30))

    @app.get("/v3/users/activities")
    def activities(request: Request, to: date | None = None) -> JSONResponse:
        person = state.guard(request)
        frm = request.query_params.get("from")
        first = date.fromisoformat(frm) if frm else state.today - timedelta(days=27)
        last = min(to or state.today, state.today)
        return JSONResponse(
            [
                d
                for day in days_between(first, last)
                for d in render("activities", person, state.truth(person, day))
            ]
        )

    @app.get("/v3/users/sleep")
    def sleep(request: Request) -> JSONResponse:
        return JSONResponse({"nights": recent(state.guard(request), "sleep", 28)})

    @app.get("/v3/users/nightly-recharge")
    def recharge(request: Request) -> JSONResponse:
        return JSONResponse({"recharges": recent(state.guard(request), "nightly-recharge", 28)})

    @app.get("/v3/users/physical-info")
    def physical(request: Request) -> JSONResponse:
        person = state.guard(request)
        # the weight is the latest one synced from a scale (weight_source SOURCE_MEASURED)
        weighed = next(
            (
                t.body
                for t in (state.truth(person, state.today - timedelta(days=i)) for i in range(60))
                if t.body is not None
            ),
            None,
        )
        weight = weighed.weight_kg if weighed else person.weight_kg
        modified = iso_z(weighed.time) if weighed else "2025-01-01T08:00:00.000Z"
        return JSONResponse(
            {
                "weight": weight,
                "height": person.height_m * 100,
                "created": "2025-01-01T08:00:00Z",
                "modified": modified,
                "gender": "FEMALE",
                "maximum_heart_rate": person.max_hr,
                "resting_heart_rate": round(person.resting_hr),
                "aerobic_threshold": 140,
                "anaerobic_threshold": 170,
                "vo2_max": round(person.vo2max),
                "weight_source": "SOURCE_MEASURED",
            }
        )

    def span(frm: str | None, to: str | None) -> tuple[date, date]:
        """An inclusive date range of at most 28 days (the last 28 days by default)."""
        last = date.fromisoformat(to) if to else state.today
        first = date.fromisoformat(frm) if frm else last - timedelta(days=MAX_RANGE_DAYS - 1)
        if first > last or (last - first).days >= MAX_RANGE_DAYS:
            raise HTTPException(400, "range must be 1 to 28 days")
        return first, min(last, state.today)

    @app.get("/v3/users/continuous-heart-rate")
    def continuous_heart_rate(request: Request) -> JSONResponse:
        person = state.guard(request)
        if "from" not in request.query_params or "to" not in request.query_params:
            raise HTTPException(400, "from and to are required")
        first, last = span(request.query_params["from"], request.query_params["to"])
        return JSONResponse(
            {
                "heart_rates": [
                    d
                    for day in days_between(first, last)
                    for d in continuous_hr(person, state.truth(person, day))
                ]
            }
        )

    @app.get("/v3/users/continuous-heart-rate/{day}")
    def continuous_heart_rate_day(request: Request, day: date) -> JSONResponse:
        person = state.guard(request)
        docs = continuous_hr(person, state.truth(person, day))
        if not docs or day > state.today:
            raise HTTPException(404, "no data for date")
        return JSONResponse(docs[0])

    @app.get("/v3/users/biosensing/{kind}")
    def biosensing_range(request: Request, kind: str) -> Response:
        person = state.guard(request)
        if kind not in ("bodytemperature", "skintemperature", "spo2", "ecg", "skincontacts"):
            raise HTTPException(404, "unknown resource")
        first, last = span(request.query_params.get("from"), request.query_params.get("to"))
        docs = (
            []
            if kind == "skincontacts"
            else [
                d
                for day in days_between(first, last)
                for d in biosensing(kind, person, state.truth(person, day))
            ]
        )
        return JSONResponse(docs) if docs else Response(status_code=204)

    return app


def webhook(
    person: Person, event: str, day: str, secret: str = WEBHOOK_SECRET, sent: datetime | None = None
) -> tuple[dict[str, str], bytes]:
    """A signed Polar webhook delivery: (headers, raw body); `timestamp` is when it was sent
    (now unless `sent` says otherwise)."""
    uid = person.vendor_int_id("polar")
    sent_at = (sent or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps(
        {
            "event": event,
            "user_id": uid,
            "date": day,
            "timestamp": sent_at,
            "url": f"https://www.polaraccesslink.com/v3/users/sleep/{day}",
        }
    ).encode()
    sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Polar-Webhook-Signature": sig, "Content-Type": "application/json"}, body
