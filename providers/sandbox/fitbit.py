"""Fitbit Web API emulator: OAuth 2.0 with PKCE and HTTP Basic client authentication (single-use
refresh tokens, `user_id` in the token answer), date-range collections with local times
*without* an offset, the profile's `offsetFromUTCMillis`, sleep logs in minutes with stage
levels, the activity log list paged by `pagination.next`, `Fitbit-Rate-Limit-*` headers on
every answer, and subscription notifications signed base64(HMAC-SHA1(body, secret + "&"))."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from providers.sandbox.cloud import VendorState, iso_local, oauth_error
from providers.sandbox.oauth_routes import add_authorize_route
from providers.sandbox.oauth_server import OAuthRefusal
from providers.sandbox.physiology import (
    DayTruth,
    Person,
    SleepTruth,
    days_between,
    heart_rate,
)

HOURLY_LIMIT = 150
CYCLES = 4  # a night's stage levels: wake (latency), then cycles of light, deep and REM
MAX_DAYS = {
    "sleep": 100,
    "heart": 365,
    "hrv": 30,
    "spo2": 30,
    "br": 30,
    "temp_skin": 30,
    "weight": 31,
}


def rate_headers(state: VendorState, wait: float | None) -> dict[str, str]:
    """Fitbit-Rate-Limit-*: the hourly quota, what is left, seconds until the reset."""
    budget = state.budget
    limit = budget.limit if budget else HOURLY_LIMIT
    reset = wait if wait is not None else (budget.reset_in() if budget else 3600.0)
    return {
        "Fitbit-Rate-Limit-Limit": str(limit),
        "Fitbit-Rate-Limit-Remaining": str(budget.remaining() if budget else limit),
        "Fitbit-Rate-Limit-Reset": str(max(1, math.ceil(reset))),
    }


def local(epoch: int, person: Person) -> str:
    """Fitbit's local time: no offset, milliseconds (`2025-03-10T23:12:30.000`)."""
    return iso_local(epoch, person.tz_offset_s, millis=True)[:-6]


def encoded_id(person: Person) -> str:
    return hashlib.sha256(f"fitbit:{person.account or person.key}".encode()).hexdigest()[:6].upper()


def log_id(person: Person, kind: str, day: date) -> int:
    return person.vendor_int_id(f"fitbit-{kind}") % 100_000 * 1_000_000 + day.toordinal()


def _levels(s: SleepTruth, person: Person) -> list[dict[str, Any]]:
    """The night's hypnogram: latency awake, cycles of light/deep/REM, then awake until up."""
    out, t = (
        [{"dateTime": local(s.start, person), "level": "wake", "seconds": s.latency_s}],
        (s.start + s.latency_s),
    )
    for i in range(CYCLES):
        for level, total in (("light", s.light_s), ("deep", s.deep_s), ("rem", s.rem_s)):
            part = total // CYCLES if i < CYCLES - 1 else total - (CYCLES - 1) * (total // CYCLES)
            out.append({"dateTime": local(t, person), "level": level, "seconds": part})
            t += part
    out.append({"dateTime": local(t, person), "level": "wake", "seconds": s.awake_s - s.latency_s})
    return out


def sleep_log(person: Person, t: DayTruth) -> dict[str, Any]:
    s = t.sleep
    assert s is not None
    minutes = {
        k: round(v / 60)
        for k, v in (
            ("light", s.light_s),
            ("deep", s.deep_s),
            ("rem", s.rem_s),
            ("wake", s.awake_s),
        )
    }
    asleep = minutes["light"] + minutes["deep"] + minutes["rem"]
    in_bed = round((s.end - s.start) / 60)
    return {
        "dateOfSleep": t.day.isoformat(),
        "duration": (s.end - s.start) * 1000,
        "efficiency": round(asleep / in_bed * 100),
        "isMainSleep": True,
        "startTime": local(s.start, person),
        "endTime": local(s.end, person),
        "logId": log_id(person, "sleep", t.day),
        "logType": "auto_detected",
        "type": "stages",
        "infoCode": 0,
        "minutesAfterWakeup": 0,
        "minutesAsleep": asleep,
        "minutesAwake": minutes["wake"],
        "minutesToFallAsleep": round(s.latency_s / 60),
        "timeInBed": in_bed,
        "levels": {
            "data": _levels(s, person),
            "shortData": [],
            "summary": {
                k: {
                    "count": s.disturbances if k == "wake" else CYCLES,
                    "minutes": v,
                    "thirtyDayAvgMinutes": v,
                }
                for k, v in minutes.items()
            },
        },
    }


def activity_day(person: Person, t: DayTruth) -> dict[str, Any]:
    a = t.activity
    assert a is not None
    return {
        "activities": [],
        "goals": {"steps": 10000, "caloriesOut": 2500, "distance": 8.05, "floors": 10},
        "summary": {
            "steps": a.steps,
            "caloriesOut": a.total_kcal,
            "activityCalories": a.active_kcal,
            "caloriesBMR": a.bmr_kcal,
            "marginalCalories": a.active_kcal // 2,
            "distances": [
                {"activity": "total", "distance": a.distance_m / 1000},
                {"activity": "tracker", "distance": a.distance_m / 1000},
            ],
            "floors": a.floors,
            "elevation": a.floors * 3.0,
            "sedentaryMinutes": round(a.sedentary_s / 60),
            "lightlyActiveMinutes": round(a.light_s / 60),
            "fairlyActiveMinutes": round(a.moderate_s / 60),
            "veryActiveMinutes": round(a.vigorous_s / 60),
            "restingHeartRate": t.sleep.lowest_hr if t.sleep else None,
            "heartRateZones": [],
            "activeScore": -1,
            "useEstimation": True,
        },
    }


def collection(kind: str, person: Person, t: DayTruth) -> list[dict[str, Any]]:
    """The entries of one day in a date-range collection."""
    s, day = t.sleep, t.day.isoformat()
    if kind == "sleep":
        return [sleep_log(person, t)] if s else []
    if kind == "weight":
        b = t.body
        if b is None:
            return []
        stamp = local(b.time, person)
        return [
            {
                "logId": b.time * 1000,
                "date": stamp[:10],
                "time": stamp[11:19],
                "weight": b.weight_kg,
                "bmi": round(b.weight_kg / person.height_m**2, 2),
                "fat": b.fat_pct,
                "source": "Aria",
            }
        ]
    if s is None:
        return []
    values: dict[str, dict[str, Any]] = {
        "heart": {
            "customHeartRateZones": [],
            "heartRateZones": [],
            "restingHeartRate": s.lowest_hr,
        },
        "hrv": {"dailyRmssd": s.avg_hrv_ms, "deepRmssd": s.avg_hrv_ms + 3},
        "spo2": {"avg": s.spo2, "min": round(s.spo2 - 3, 1), "max": round(s.spo2 + 2, 1)},
        "br": {"breathingRate": s.resp_rate},
        "temp_skin": {"nightlyRelative": s.skin_temp_dev_c},
    }
    entry: dict[str, Any] = {"dateTime": day, "value": values[kind]}
    if kind == "temp_skin":
        entry["logType"] = "dedicated_temp_sensor"
    return [entry]


def workout(person: Person, t: DayTruth) -> dict[str, Any]:
    w = t.workout
    assert w is not None
    start = iso_local(w.start, person.tz_offset_s, millis=True)
    running = w.sport == "running"
    return {
        "logId": log_id(person, "activity", t.day),
        "activityName": "Run" if running else "Bike",
        "activityTypeId": 90009 if running else 90001,
        "logType": "auto_detected",
        "startTime": start,
        "originalStartTime": start,
        "duration": w.duration_s * 1000,
        "originalDuration": w.duration_s * 1000,
        "activeDuration": w.duration_s * 1000,
        "calories": w.kcal,
        "steps": int(w.duration_s * 2.8) if running else 0,
        "distance": w.distance_m / 1000,
        "distanceUnit": "Kilometer",
        "averageHeartRate": w.avg_hr,
        "elevationGain": float(w.elevation_gain_m),
        "hasActiveZoneMinutes": True,
        "lastModified": datetime.fromtimestamp(w.start + w.duration_s + 600, UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.000Z"
        ),
    }


def _range(state: VendorState, start: str, end: str, kind: str) -> list[date]:
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise HTTPException(400, "dates must be yyyy-MM-dd") from None
    if last < first or (last - first).days >= MAX_DAYS[kind]:
        raise HTTPException(400, f"{kind}: at most {MAX_DAYS[kind]} days per request")
    return [d for d in days_between(first, last) if d <= state.today]


def build(state: VendorState) -> FastAPI:
    app = FastAPI(title="Fitbit Web API (sandbox)")
    app.state.subscriptions = subscriptions = set[tuple[str, str]]()
    add_authorize_route(app, state, "/oauth2/authorize")

    def answer(body: Any) -> JSONResponse:
        return JSONResponse(body, headers=rate_headers(state, None))

    @app.post("/oauth2/token")
    async def token(request: Request) -> Response:
        """HTTP Basic client authentication; the answer names the user."""
        form = {k: str(v) for k, v in (await request.form()).items()}
        auth = request.headers.get("authorization", "")
        try:
            if not auth.lower().startswith("basic "):
                raise OAuthRefusal("invalid_client", "HTTP Basic client auth required", 401)
            cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            person, body = state.oauth.token({**form, "client_id": cid, "client_secret": secret})
        except OAuthRefusal as refusal:
            return oauth_error(refusal)
        return JSONResponse(
            body
            | {
                "user_id": encoded_id(person),
                "token_type": "Bearer",
                "scope": "activity heartrate sleep weight profile "
                "oxygen_saturation respiratory_rate temperature",
            }
        )

    @app.post("/oauth2/revoke")
    async def revoke(request: Request) -> Response:
        form = await request.form()
        state.oauth.revoke_access(str(form.get("token", "")))
        return Response(status_code=200)

    @app.get("/1/user/-/profile.json")
    def profile(request: Request) -> JSONResponse:
        person = state.guard(request)
        return answer(
            {
                "user": {
                    "encodedId": encoded_id(person),
                    "timezone": person.iana_tz,
                    "offsetFromUTCMillis": person.tz_offset_s * 1000,
                }
            }
        )

    def ranged(kind: str, key: str | None) -> Callable[[Request, str, str], JSONResponse]:
        def endpoint(request: Request, start: str, end: str) -> JSONResponse:
            person = state.guard(request)
            entries = [
                e
                for d in _range(state, start, end, kind)
                for e in collection(kind, person, state.truth(person, d))
            ]
            return answer(entries if key is None else {key: entries})

        return endpoint

    for kind, path, key in (
        ("sleep", "/1.2/user/-/sleep/date/{start}/{end}.json", "sleep"),
        ("heart", "/1/user/-/activities/heart/date/{start}/{end}.json", "activities-heart"),
        ("hrv", "/1/user/-/hrv/date/{start}/{end}.json", "hrv"),
        ("spo2", "/1/user/-/spo2/date/{start}/{end}.json", None),
        ("br", "/1/user/-/br/date/{start}/{end}.json", "br"),
        ("temp_skin", "/1/user/-/temp/skin/date/{start}/{end}.json", "tempSkin"),
        ("weight", "/1/user/-/body/log/weight/date/{start}/{end}.json", "weight"),
    ):
        app.get(path)(ranged(kind, key))

    @app.get("/1/user/-/activities/date/{day}.json")
    def activities(request: Request, day: str) -> JSONResponse:
        person = state.guard(request)
        t = state.truth(person, date.fromisoformat(day))
        if t.activity is None:
            return answer(
                {
                    "activities": [],
                    "goals": {},
                    "summary": {"steps": 0, "caloriesOut": person.bmr_kcal, "distances": []},
                }
            )
        return answer(activity_day(person, t))

    @app.get("/1/user/-/activities/heart/date/{day}/1d/1min.json")
    def intraday(request: Request, day: str) -> JSONResponse:
        person = state.guard(request)
        d = date.fromisoformat(day)
        t = state.truth(person, d)
        start = t.local_midnight
        dataset = (
            []
            if t.activity is None
            else [
                {
                    "time": local(start + m * 60, person)[11:19],
                    "value": heart_rate(person, start + m * 60),
                }
                # a day not over has its minutes up to now (DayTruth.until)
                for m in range(min(1440, (t.until - start) // 60 + 1))
            ]
        )
        return answer(
            {
                "activities-heart": collection("heart", person, t)
                or [{"dateTime": day, "value": {"heartRateZones": []}}],
                "activities-heart-intraday": {
                    "dataset": dataset,
                    "datasetInterval": 1,
                    "datasetType": "minute",
                },
            }
        )

    @app.get("/1/user/-/activities/list.json")
    def activity_list(
        request: Request,
        afterDate: str,  # noqa: N803 (Fitbit's query parameter)
        sort: str = "asc",
        limit: int = 20,
        offset: int = 0,
    ) -> JSONResponse:
        person = state.guard(request)
        if sort != "asc" or limit > 100:
            raise HTTPException(400, "afterDate needs sort=asc and limit <= 100")
        after = date.fromisoformat(afterDate[:10])
        days = days_between(after + timedelta(days=1), state.today)
        found = [workout(person, t) for d in days if (t := state.truth(person, d)).workout]
        page = found[offset : offset + limit]
        more = offset + limit < len(found)
        next_url = (
            str(
                request.url.replace(
                    query=urlencode(
                        {
                            "afterDate": afterDate,
                            "sort": sort,
                            "limit": limit,
                            "offset": offset + limit,
                        }
                    )
                )
            )
            if more
            else ""
        )
        return answer(
            {
                "activities": page,
                "pagination": {
                    "afterDate": afterDate,
                    "limit": limit,
                    "offset": offset,
                    "sort": sort,
                    "next": next_url,
                    "previous": "",
                },
            }
        )

    @app.post("/1/user/-/apiSubscriptions/{subscription_id}.json")
    @app.post("/1/user/-/{collection_type}/apiSubscriptions/{subscription_id}.json")
    def subscribe(
        request: Request, subscription_id: str, collection_type: str = "user"
    ) -> JSONResponse:
        """A subscription to one collection, or to all of them (201; 200 when it exists)."""
        person = state.guard(request)
        key = (person.account or person.key, collection_type)
        known = key in subscriptions
        subscriptions.add(key)
        return JSONResponse(
            {
                "collectionType": collection_type,
                "ownerId": encoded_id(person),
                "ownerType": "user",
                "subscriberId": "1",
                "subscriptionId": subscription_id,
            },
            status_code=200 if known else 201,
        )

    @app.delete("/1/user/-/apiSubscriptions/{subscription_id}.json")
    def unsubscribe(request: Request, subscription_id: str) -> Response:
        """Remove the user's subscription: 204, or 404 when there is none."""
        person = state.guard(request)
        key = (person.account or person.key, "user")
        if key not in subscriptions:
            return Response(status_code=404)
        subscriptions.discard(key)
        return Response(status_code=204)

    return app


def webhook(
    state: VendorState,
    person: Person,
    collection_type: str,
    day: date,
    subscription_id: str = "mirobody",
) -> tuple[dict[str, str], bytes]:
    """A subscription notification as Fitbit POSTs it: a JSON array, signed."""
    body = json.dumps(
        [
            {
                "collectionType": collection_type,
                "date": day.isoformat(),
                "ownerId": encoded_id(person),
                "ownerType": "user",
                "subscriptionId": subscription_id,
            }
        ]
    ).encode()
    key = (state.oauth.client_secret + "&").encode()
    signature = base64.b64encode(hmac.new(key, body, hashlib.sha1).digest()).decode()
    return {"Content-Type": "application/json", "X-Fitbit-Signature": signature}, body
