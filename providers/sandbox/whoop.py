"""WHOOP v2 emulator: Hydra-style OAuth, `{records, next_token}` pages (newest first,
`limit` <= 25, `nextToken` query), milliseconds and kilojoules, X-RateLimit-* headers and
webhooks signed base64(HMAC-SHA256(timestamp_ms + body, client_secret))."""

from __future__ import annotations

import base64
import json
import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from providers.sandbox.cloud import (
    VendorState,
    iso_z,
    offset_str,
    stable_id,
)
from providers.sandbox.oauth_routes import add_authorize_route, add_token_route
from providers.sandbox.physiology import DayTruth, Person, days_between


def rate_headers(state: VendorState, wait: float | None) -> dict[str, str]:
    budget = state.budget
    limit = budget.limit if budget else 100
    reset = wait if wait is not None else (budget.reset_in() if budget else 60.0)
    return {
        "X-RateLimit-Limit": f"{limit}, {limit};window=60, 10000;window=86400",
        "X-RateLimit-Remaining": str(budget.remaining() if budget else limit),
        "X-RateLimit-Reset": str(max(1, math.ceil(reset))),
    }


def cycle_id(person: Person, t: DayTruth) -> int:
    return person.vendor_int_id("whoop-cycle") % 100000 * 1_000_000 + t.day.toordinal()


def _base(person: Person, t: DayTruth, start: int, end: int | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "user_id": person.vendor_int_id("whoop"),
        "created_at": iso_z(start + 60),
        "updated_at": iso_z((end or start) + 3600),
        "start": iso_z(start),
        "timezone_offset": offset_str(person.tz_offset_s),
        "score_state": "PENDING_SCORE" if t.pending else "SCORED",
    }
    if end is not None:
        doc["end"] = iso_z(end)
    return doc


def render(kind: str, person: Person, t: DayTruth, nxt: DayTruth | None) -> list[dict[str, Any]]:
    """The WHOOP documents of one day for one collection."""
    s, a, w = t.sleep, t.activity, t.workout
    if kind == "workout":
        if w is None:
            return []
        doc = _base(person, t, w.start, w.start + w.duration_s) | {
            "id": stable_id("whoop-workout", person.key, t.day),
            "sport_name": w.sport,
            "score_state": "SCORED",
        }
        doc["score"] = {
            "strain": w.strain,
            "average_heart_rate": w.avg_hr,
            "max_heart_rate": w.max_hr,
            "kilojoule": round(w.kcal * 4.184, 1),
            "percent_recorded": 99.0,
            "distance_meter": float(w.distance_m),
            "altitude_gain_meter": float(w.elevation_gain_m),
            "altitude_change_meter": 1.5,
            "zone_durations": {
                "zone_zero_milli": 0,
                "zone_one_milli": 240000,
                "zone_two_milli": w.duration_s * 200,
                "zone_three_milli": w.duration_s * 500,
                "zone_four_milli": w.duration_s * 250,
                "zone_five_milli": w.duration_s * 50,
            },
        }
        return [doc]
    if s is None or a is None:
        return []
    sleep_id = stable_id("whoop-sleep", person.key, t.day)
    if kind == "sleep":
        doc = _base(person, t, s.start, s.end) | {
            "id": sleep_id,
            "cycle_id": cycle_id(person, t),
            "nap": False,
        }
        if not t.pending:
            doc["score"] = {
                "stage_summary": {
                    "total_in_bed_time_milli": s.in_bed_s * 1000,
                    "total_awake_time_milli": s.awake_s * 1000,
                    "total_no_data_time_milli": 0,
                    "total_light_sleep_time_milli": s.light_s * 1000,
                    "total_slow_wave_sleep_time_milli": s.deep_s * 1000,
                    "total_rem_sleep_time_milli": s.rem_s * 1000,
                    "sleep_cycle_count": s.cycles,
                    "disturbance_count": s.disturbances,
                },
                "sleep_needed": {
                    "baseline_milli": 27000000,
                    "need_from_sleep_debt_milli": 540000,
                    "need_from_recent_strain_milli": 312000,
                    "need_from_recent_nap_milli": 0,
                },
                "respiratory_rate": s.resp_rate,
                "sleep_performance_percentage": float(s.score),
                "sleep_consistency_percentage": 81.0,
                "sleep_efficiency_percentage": round(s.asleep_s / s.in_bed_s * 100, 1),
            }
        return [doc]
    if kind == "recovery":
        doc = {
            k: v
            for k, v in _base(person, t, s.end, s.end).items()
            if k in ("user_id", "created_at", "updated_at", "score_state")
        }
        doc |= {"cycle_id": cycle_id(person, t), "sleep_id": sleep_id}
        if not t.pending:
            doc["score"] = {
                "user_calibrating": False,
                "recovery_score": float(t.recovery_score),
                "resting_heart_rate": float(s.lowest_hr),
                "hrv_rmssd_milli": float(s.avg_hrv_ms),
                "spo2_percentage": s.spo2,
                "skin_temp_celsius": s.skin_temp_c,
            }
        return [doc]
    # cycle: from falling asleep to the next falling asleep; open while in progress
    if nxt is None or (t.pending and nxt.pending):
        end = None  # today's cycle is still open (tomorrow is pending too)
    else:
        end = nxt.sleep.start if nxt.sleep is not None else s.start + 86400
    doc = _base(person, t, s.start, end) | {"id": cycle_id(person, t)}
    if not t.pending:
        doc["score"] = {
            "strain": t.strain,
            "kilojoule": round(a.total_kcal * 4.184, 1),
            "average_heart_rate": a.hr_avg,
            "max_heart_rate": a.hr_max,
        }
    return [doc]


def _start_epoch(t: DayTruth, doc: dict[str, Any]) -> float:
    """Collections filter on the record's start; recovery on its sleep's start."""
    if "start" not in doc and t.sleep is not None:
        return t.sleep.start
    return datetime.fromisoformat(doc["start"].replace("Z", "+00:00")).timestamp()


def build(state: VendorState) -> FastAPI:
    app = FastAPI(title="WHOOP sandbox")

    add_authorize_route(app, state, "/oauth/oauth2/auth", min_state_chars=8)
    add_token_route(
        app,
        state,
        "/oauth/oauth2/token",
        lambda _, form: {"scope": form.get("scope", "offline read:recovery")},
    )

    def page(
        request: Request,
        kind: str,
        start: str | None,
        end: str | None,
        limit: int,
        next_token: str | None,
    ) -> JSONResponse:
        person = state.guard(request)
        now = datetime.now(UTC)
        lo = (
            datetime.fromisoformat(start.replace("Z", "+00:00"))
            if start
            else now - timedelta(days=30)
        )
        hi = datetime.fromisoformat(end.replace("Z", "+00:00")) if end else now
        days = days_between(lo.date() - timedelta(days=1), hi.date() + timedelta(days=1))
        truths = [state.truth(person, d) for d in [*days, days[-1] + timedelta(days=1)]]
        docs = [
            doc
            for i, t in enumerate(truths[:-1])
            for doc in render(kind, person, t, truths[i + 1])
            if lo.timestamp() <= _start_epoch(t, doc) < hi.timestamp()
        ]
        docs.sort(key=lambda d: d.get("start") or d["created_at"], reverse=True)
        offset = int(base64.urlsafe_b64decode(next_token).decode()) if next_token else 0
        limit = min(max(limit, 1), 25)
        chunk = docs[offset : offset + limit]
        body: dict[str, Any] = {"records": chunk}
        if offset + limit < len(docs):
            body["next_token"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
        return JSONResponse(body, headers=rate_headers(state, None))

    for kind, path in (
        ("cycle", "/developer/v2/cycle"),
        ("recovery", "/developer/v2/recovery"),
        ("sleep", "/developer/v2/activity/sleep"),
        ("workout", "/developer/v2/activity/workout"),
    ):

        def endpoint(
            request: Request,
            start: str | None = None,
            end: str | None = None,
            limit: int = Query(10),
            next_token: str | None = Query(None, alias="nextToken"),
            _kind: str = kind,
        ) -> JSONResponse:
            return page(request, _kind, start, end, limit, next_token)

        app.add_api_route(path, endpoint, methods=["GET"])

    def find(person: Person, kind: str, match: Any) -> dict[str, Any]:
        """One document by id, searched over the sandbox's last 60 days."""
        days = days_between(state.today - timedelta(days=60), state.today + timedelta(days=1))
        truths = [state.truth(person, d) for d in days]
        for i, t in enumerate(truths[:-1]):
            for doc in render(kind, person, t, truths[i + 1]):
                if match(doc):
                    return doc
        raise HTTPException(404, f"no such {kind}")

    @app.get("/developer/v2/activity/sleep/{sleep_id}")
    def one_sleep(request: Request, sleep_id: str) -> dict[str, Any]:
        return find(state.guard(request), "sleep", lambda d: d["id"] == sleep_id)

    @app.get("/developer/v2/activity/workout/{workout_id}")
    def one_workout(request: Request, workout_id: str) -> dict[str, Any]:
        return find(state.guard(request), "workout", lambda d: d["id"] == workout_id)

    @app.get("/developer/v2/cycle/{cycle}/recovery")
    def cycle_recovery(request: Request, cycle: int) -> dict[str, Any]:
        return find(state.guard(request), "recovery", lambda d: d["cycle_id"] == cycle)

    @app.get("/developer/v2/user/profile/basic")
    def profile(request: Request) -> dict[str, Any]:
        person = state.guard(request)
        return {
            "user_id": person.vendor_int_id("whoop"),
            "email": f"{person.key}@sandbox.test",
            "first_name": person.key.title(),
            "last_name": "Sandbox",
        }

    @app.get("/developer/v2/user/measurement/body")
    def body(request: Request) -> dict[str, Any]:
        person = state.guard(request)
        return {
            "height_meter": person.height_m,
            "weight_kilogram": person.weight_kg,
            "max_heart_rate": person.max_hr,
        }

    @app.delete("/developer/v2/user/access")
    def revoke(request: Request) -> Response:
        state.guard(request)
        state.oauth.revoke_access(request.headers["authorization"][7:].strip())
        return Response(status_code=204)

    return app


def webhook(
    state: VendorState, person: Person, event: str, object_id: str, timestamp_ms: int | None = None
) -> tuple[dict[str, str], bytes]:
    """A signed WHOOP webhook delivery: (headers, raw body)."""
    body = json.dumps(
        {
            "user_id": person.vendor_int_id("whoop"),
            "id": object_id,
            "type": event,
            "trace_id": stable_id("trace", object_id, event),
        }
    ).encode()
    ts = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    signature = base64.b64encode(state.sign(ts.encode() + body)).decode()
    return {
        "X-WHOOP-Signature": signature,
        "X-WHOOP-Signature-Timestamp": ts,
        "Content-Type": "application/json",
    }, body
