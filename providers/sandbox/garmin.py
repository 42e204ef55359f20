"""Garmin Health API emulator: OAuth 2.0 with required PKCE (S256) and rotating refresh
tokens, summaries by upload window (<= 24 h) as bare arrays, epoch seconds + offsets, grams,
`timeOffset*` maps keyed by seconds, PUSH webhooks (no signature; `garmin-client-id`), and
asynchronous backfill: a 202, then the window's summaries POSTed to the client's push URL."""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import anyio
import httpx
from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from providers.sandbox import garmin_extra
from providers.sandbox.cloud import SANDBOX_CREDENTIALS, VendorState
from providers.sandbox.garmin_oauth1 import OAuth1State
from providers.sandbox.garmin_oauth1 import mount as mount_oauth1
from providers.sandbox.oauth_routes import add_authorize_route, add_token_route
from providers.sandbox.physiology import DayTruth, Person, days_between, heart_rate

log = logging.getLogger(__name__)

# URL path segment -> push key of the same summaries
SUMMARIES = {
    "dailies": "dailies",
    "epochs": "epochs",
    "sleeps": "sleeps",
    "hrv": "hrv",
    "bodyComps": "bodyComps",
    "pulseox": "pulseox",
    "respiration": "allDayRespiration",
    "skinTemp": "skinTemp",
    "stressDetails": "stressDetails",
    "activities": "activities",
    "userMetrics": "userMetrics",
    "bloodPressures": "bloodPressures",
    "healthSnapshot": "healthSnapshot",
}
BACKFILL_PATHS = {**{k: k for k in SUMMARIES}, "pulseOx": "pulseox"}  # path -> summary
# The Developer Portal's endpoint tool: the client signs in with its consumer key and secret.
PortalClient = Annotated[HTTPBasicCredentials, Depends(HTTPBasic(realm="Garmin Developer Portal"))]


def _series(start: int, seconds: int, step: int, value: Any) -> dict[str, Any]:
    return {str(off): value(start + off) for off in range(0, seconds, step)}


def render(kind: str, person: Person, t: DayTruth) -> list[tuple[int, dict[str, Any]]]:
    """(upload time, summary) pairs of one day."""
    s, a, w, b = t.sleep, t.activity, t.workout, t.body
    uid, off = person.vendor_hex_id("garmin"), person.tz_offset_s
    base = {"userId": uid, "summaryId": f"x{uid[:6]}-{kind}-{t.day.isoformat()}"}
    if kind == "activities":
        if w is None:
            return []
        return [
            (
                w.start + w.duration_s + 300,
                base
                | {
                    "activityId": t.day.toordinal(),
                    "activityName": "Evening Run",
                    "activityType": w.sport.upper(),
                    "startTimeInSeconds": w.start,
                    "startTimeOffsetInSeconds": off,
                    "durationInSeconds": w.duration_s,
                    "distanceInMeters": float(w.distance_m),
                    "activeKilocalories": w.kcal,
                    "averageHeartRateInBeatsPerMinute": w.avg_hr,
                    "maxHeartRateInBeatsPerMinute": w.max_hr,
                    "averageSpeedInMetersPerSecond": round(w.distance_m / w.duration_s, 2),
                    # a ride takes no steps (the day's steps count a run's)
                    "steps": int(w.duration_s * 2.8) if w.sport == "running" else 0,
                    "totalElevationGainInMeters": float(w.elevation_gain_m),
                    "totalElevationLossInMeters": float(w.elevation_gain_m),
                    "deviceName": "forerunner265",
                    "manual": False,
                },
            )
        ]
    if kind == "bodyComps":
        if b is None:
            return []
        return [
            (
                b.time + 60,
                base
                | {
                    "measurementTimeInSeconds": b.time,
                    "measurementTimeOffsetInSeconds": off,
                    "weightInGrams": round(b.weight_kg * 1000),
                    "bodyFatInPercent": b.fat_pct,
                    "bodyMassIndex": round(b.weight_kg / person.height_m**2, 1),
                    "muscleMassInGrams": round(b.muscle_kg * 1000),
                    "boneMassInGrams": round(b.bone_kg * 1000),
                    "bodyWaterInPercent": b.water_pct,
                },
            )
        ]
    if kind == "bloodPressures":
        return garmin_extra.blood_pressure(base, person, t)
    if s is None or a is None:
        return []
    if kind == "epochs":
        return garmin_extra.epochs(base, person, t)
    if kind == "healthSnapshot":
        return garmin_extra.health_snapshot(base, person, t)
    if kind == "userMetrics":
        return [
            (
                t.local_midnight + 86400 + 300,
                base
                | {
                    "calendarDate": t.day.isoformat(),
                    "vo2Max": person.vo2max,
                    "vo2MaxCycling": person.vo2max - 2,
                    "enhanced": True,
                    "fitnessAge": 31,
                },
            )
        ]
    night = {
        "calendarDate": t.day.isoformat(),
        "startTimeInSeconds": s.start,
        "startTimeOffsetInSeconds": off,
        "durationInSeconds": s.in_bed_s,
    }
    up = s.end + 600
    if kind == "sleeps":
        naps = garmin_extra.naps(person, t)
        nap_list = (
            {
                "naps": naps,
                "totalNapDurationInSeconds": sum(n["napDurationInSeconds"] for n in naps),
            }
            if naps
            else {}
        )
        if naps:  # the night's summary is sent again once the afternoon nap is in
            up = naps[-1]["napStartTimeInSeconds"] + naps[-1]["napDurationInSeconds"] + 600
        return [
            (
                up,
                base
                | night
                | nap_list
                | {
                    "unmeasurableSleepInSeconds": 0,
                    "deepSleepDurationInSeconds": s.deep_s,
                    "lightSleepDurationInSeconds": s.light_s,
                    "remSleepInSeconds": s.rem_s,
                    "awakeDurationInSeconds": s.awake_s,
                    "sleepLevelsMap": {
                        "deep": [
                            {
                                "startTimeInSeconds": s.start + 3600,
                                "endTimeInSeconds": s.start + 3600 + s.deep_s,
                            }
                        ]
                    },
                    "validation": "ENHANCED_TENTATIVE" if t.pending else "ENHANCED_FINAL",
                    "timeOffsetSleepSpo2": {"0": round(s.spo2)},
                    "timeOffsetSleepRespiration": {"0": s.resp_rate},
                    "overallSleepScore": {"value": s.score, "qualifierKey": "GOOD"},
                    "sleepScores": {"totalDuration": {"qualifierKey": "GOOD"}},
                },
            )
        ]
    if kind == "hrv":
        return [
            (
                up,
                base
                | night
                | {
                    "lastNightAvg": s.avg_hrv_ms,
                    "lastNight5MinHigh": s.avg_hrv_ms + 25,
                    "hrvValues": {"300": s.avg_hrv_ms - 4, "600": s.avg_hrv_ms + 4},
                },
            )
        ]
    if kind == "pulseox":
        return [
            (
                up,
                base
                | night
                | {
                    "timeOffsetSpo2Values": _series(0, s.in_bed_s, 3600, lambda _: round(s.spo2)),
                    "onDemand": False,
                },
            )
        ]
    if kind == "respiration":
        return [
            (
                up,
                base
                | {k: v for k, v in night.items() if k != "calendarDate"}
                | {"timeOffsetEpochToBreaths": _series(0, s.in_bed_s, 3600, lambda _: s.resp_rate)},
            )
        ]
    if kind == "skinTemp":
        return [(up, base | night | {"avgDeviationCelsius": s.skin_temp_dev_c})]
    start = t.local_midnight
    day = {
        "calendarDate": t.day.isoformat(),
        "startTimeInSeconds": start,
        "startTimeOffsetInSeconds": off,
        "durationInSeconds": 86400,
    }
    if kind == "stressDetails":
        return garmin_extra.stress_details(base | day)
    hr = _series(0, min(86400, t.until - start + 1), 900, lambda o: heart_rate(person, start + o))
    measured = [v for v in garmin_extra.stress_readings().values() if v >= 0]
    return [
        (
            start + 86400 + 300,
            base
            | day
            | {
                "activityType": "WALKING",
                "steps": a.steps,
                "distanceInMeters": float(a.distance_m),
                "activeTimeInSeconds": a.moderate_s + a.vigorous_s + a.light_s,
                "activeKilocalories": a.active_kcal,
                "bmrKilocalories": a.bmr_kcal,
                "moderateIntensityDurationInSeconds": a.moderate_s,
                "vigorousIntensityDurationInSeconds": a.vigorous_s,
                "floorsClimbed": a.floors,
                "minHeartRateInBeatsPerMinute": a.hr_min,
                "averageHeartRateInBeatsPerMinute": a.hr_avg,
                "maxHeartRateInBeatsPerMinute": a.hr_max,
                "restingHeartRateInBeatsPerMinute": s.lowest_hr,
                # the day's stress average and maximum are those of its readings (-1: not measured)
                "timeOffsetHeartRateSamples": hr,
                "averageStressLevel": round(sum(measured) / len(measured)),
                "maxStressLevel": max(measured),
                "stressQualifier": "BALANCED",
                "highStressDurationInSeconds": 1800,
                "bodyBatteryChargedValue": 58,
                "bodyBatteryDrainedValue": 62,
                "stepsGoal": 10000,
            },
        )
    ]


def build(state: VendorState) -> FastAPI:
    app = FastAPI(title="Garmin sandbox")
    legacy = OAuth1State(state.oauth.client_id, state.oauth.client_secret)
    mount_oauth1(app, legacy)
    app.state.oauth1 = legacy

    async def person_of(request: Request) -> Person:
        """Bearer (OAuth 2.0) or an OAuth 1.0a-signed request (legacy user access token)."""
        if request.headers.get("authorization", "").startswith("OAuth "):
            return await legacy.person(request)
        return state.guard(request)

    add_authorize_route(app, state, "/oauth2Confirm")
    add_token_route(
        app,
        state,
        "/di-oauth2-service/oauth/token",
        lambda _, __: {
            "scope": "PARTNER_READ CONNECT_READ",
            "jti": "sandbox",
            "refresh_token_expires_in": 7775998,
        },
    )

    @app.get("/wellness-api/rest/user/id")
    async def user_id(request: Request) -> dict[str, str]:
        return {"userId": (await person_of(request)).vendor_hex_id("garmin")}

    @app.delete("/wellness-api/rest/user/registration")
    def deregister(request: Request) -> Response:
        state.guard(request)
        state.oauth.revoke_access(request.headers["authorization"][7:].strip())
        return Response(status_code=204)

    backfills: set[tuple[str, str, int, int]] = set()

    def portal_client(credentials: HTTPBasicCredentials) -> None:
        if not (
            secrets.compare_digest(credentials.username, state.oauth.client_id)
            and secrets.compare_digest(credentials.password, state.oauth.client_secret)
        ):
            raise HTTPException(401, "unknown consumer key or secret")

    @app.get("/tools/endpoints")
    def endpoints(client: PortalClient) -> dict[str, str | None]:
        """The Developer Portal's endpoint setting of this client (HTTP Basic: its key and
        secret): where PUSH deliveries, backfills included, are POSTed."""
        portal_client(client)
        return {"url": state.push_url}

    @app.put("/tools/endpoints")
    async def set_endpoints(request: Request, client: PortalClient) -> dict[str, str | None]:
        """Set (`{"url": "https://…"}`) or clear (`{"url": null}`) the client's push URL."""
        portal_client(client)
        url = (await request.json()).get("url")
        if url is not None and httpx.URL(url).scheme not in ("http", "https"):
            raise HTTPException(400, "the push URL must be http(s)")
        state.push_url = url
        return {"url": state.push_url}

    @app.get("/wellness-api/rest/backfill/{summary}")
    async def backfill(
        request: Request,
        summary: str,
        tasks: BackgroundTasks,
        summaryStartTimeInSeconds: int,  # noqa: N803
        summaryEndTimeInSeconds: int,  # noqa: N803
    ) -> Response:
        """Accept a backfill (202, empty body); the same type and range twice is a 409. The
        summaries of the range then arrive by PUSH at the client's push URL, one POST per
        day, after the 202 has been sent."""
        person = await person_of(request)
        lo, hi = summaryStartTimeInSeconds, summaryEndTimeInSeconds
        if summary not in BACKFILL_PATHS or not 0 < hi - lo <= 30 * 86400:
            raise HTTPException(400, "unknown summary type or range over 30 days")
        key = (person.key, summary, lo, hi)
        if key in backfills:
            return Response(status_code=409)
        backfills.add(key)
        if state.push_url:
            bodies = backfill_bodies(state, person, BACKFILL_PATHS[summary], lo, hi)
            state.pushes_pending += 1
            tasks.add_task(deliver_backfill, state, state.push_url, bodies)
        else:
            log.warning("garmin backfill accepted with no push URL set: nothing will arrive")
        return Response(status_code=202)

    @app.get("/wellness-api/rest/{summary}")
    async def summaries(
        request: Request,
        summary: str,
        uploadStartTimeInSeconds: int,  # noqa: N803
        uploadEndTimeInSeconds: int,  # noqa: N803
    ) -> JSONResponse:
        person = await person_of(request)
        if summary not in SUMMARIES:
            raise HTTPException(404, "unknown summary type")
        lo, hi = uploadStartTimeInSeconds, uploadEndTimeInSeconds
        if not 0 < hi - lo <= 86400:
            raise HTTPException(400, "upload window must be at most 86400 seconds")
        first = datetime.fromtimestamp(lo, UTC).date() - timedelta(days=2)
        last = min(datetime.fromtimestamp(hi, UTC).date() + timedelta(days=1), state.today)
        docs = [
            doc
            for day in days_between(first, last)
            for uploaded, doc in render(summary, person, state.truth(person, day))
            if lo <= uploaded < hi
        ]
        return JSONResponse(docs)

    return app


def ping(base_url: str, person: Person, summary: str, day: Any) -> tuple[dict[str, str], bytes]:
    """A PING delivery: where to fetch the day's uploads (the pull endpoint's upload window)."""
    start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    callback = (
        f"{base_url}/wellness-api/rest/{summary}?uploadStartTimeInSeconds={start}"
        f"&uploadEndTimeInSeconds={start + 86400}&token=sandbox"
    )
    item = {"userId": person.vendor_hex_id("garmin"), "callbackURL": callback}
    return {
        "garmin-client-id": SANDBOX_CREDENTIALS["garmin"]["client_id"],
        "content-type": "application/json",
    }, json.dumps({SUMMARIES[summary]: [item]}).encode()


def push(
    state: VendorState, person: Person, summary: str, day: Any
) -> tuple[dict[str, str], bytes]:
    """A PUSH delivery of one day's summaries: (headers, raw body). Garmin does not sign."""
    docs = [doc for _, doc in render(summary, person, state.truth(person, day))]
    body = json.dumps({SUMMARIES[summary]: docs}).encode()
    return {"garmin-client-id": state.oauth.client_id, "content-type": "application/json"}, body


def backfill_bodies(
    state: VendorState, person: Person, summary: str, lo: int, hi: int
) -> list[bytes]:
    """PUSH bodies of the summaries starting in [lo, hi): one per local day that has any."""
    first = datetime.fromtimestamp(lo, UTC).date() - timedelta(days=1)
    last = min(datetime.fromtimestamp(hi, UTC).date() + timedelta(days=1), state.today)
    bodies = []
    for day in days_between(first, last):
        docs = [
            doc
            for _, doc in render(summary, person, state.truth(person, day))
            if lo <= garmin_extra.summary_start(doc, person) < hi
        ]
        if docs:
            bodies.append(json.dumps({SUMMARIES[summary]: docs}).encode())
    return bodies


async def deliver_backfill(state: VendorState, url: str, bodies: list[bytes]) -> None:
    """Deliver one accepted backfill, then count it as no longer pending."""
    try:
        await deliver(url, state.oauth.client_id, bodies)
    finally:
        state.pushes_pending -= 1


async def deliver(url: str, client_id: str, bodies: list[bytes], attempts: int = 3) -> None:
    """POST each body to the push URL, as Garmin's PUSH service does; a refused or failed
    delivery is retried, then dropped with a warning (Garmin keeps no dead-letter queue)."""
    headers = {"garmin-client-id": client_id, "content-type": "application/json"}
    async with httpx.AsyncClient(timeout=30) as http:
        for body in bodies:
            for attempt in range(1, attempts + 1):
                try:
                    response = await http.post(url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    log.warning(
                        "garmin push to %s failed (%s), attempt %d",
                        url,
                        type(exc).__name__,
                        attempt,
                    )
                else:
                    if response.status_code < 300:
                        break
                    log.warning(
                        "garmin push to %s answered %d, attempt %d",
                        url,
                        response.status_code,
                        attempt,
                    )
                await anyio.sleep(0.2 * attempt)
