"""Fitbit, golden and over HTTP: documents built from the Web API reference (local times
without offset read on the profile's offset, far from UTC; a night across midnight; a nap;
workouts in km and miles), every documented field mapped or ignored, and the provider against
the sandbox emulator: PKCE link with HTTP Basic client auth, single-use refresh tokens, every
record type pulled and equal to the shared physiology, the Fitbit-Rate-Limit-* headers
honoured before a 429, signed subscription notifications, revoke."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from providers.errors import ReconnectRequiredError, WebhookVerificationError
from providers.sandbox.fitbit import webhook
from providers.sandbox.oauth_server import Budget
from providers.sandbox.physiology import PERSONS, day_truth
from providers.types import MemoryTokenStore, Window

NEPAL, MARQUESAS, KIRIBATI = 20_700_000, -34_200_000, 50_400_000  # offsetFromUTCMillis
SLEEP = {  # the reference's sleep log (stages), for a user at +05:45
    "dateOfSleep": "2025-03-11",
    "duration": 28020000,
    "efficiency": 91,
    "isMainSleep": True,
    "startTime": "2025-03-10T23:12:30.000",
    "endTime": "2025-03-11T07:00:30.000",
    "logId": 48112233441,
    "logType": "auto_detected",
    "type": "stages",
    "infoCode": 0,
    "minutesAfterWakeup": 0,
    "minutesAsleep": 418,
    "minutesAwake": 49,
    "minutesToFallAsleep": 0,
    "timeInBed": 467,
    "levels": {
        "data": [{"dateTime": "2025-03-10T23:12:30.000", "level": "wake", "seconds": 330}],
        "shortData": [{"dateTime": "2025-03-11T02:41:00.000", "level": "wake", "seconds": 60}],
        "summary": {
            "deep": {"count": 4, "minutes": 82, "thirtyDayAvgMinutes": 77},
            "light": {"count": 28, "minutes": 232, "thirtyDayAvgMinutes": 240},
            "rem": {"count": 6, "minutes": 104, "thirtyDayAvgMinutes": 98},
            "wake": {"count": 27, "minutes": 49, "thirtyDayAvgMinutes": 55},
        },
    },
    "offsetFromUTCMillis": NEPAL,
}
NAP = {
    **SLEEP,
    "logId": 48112233442,
    "isMainSleep": False,
    "minutesAsleep": 35,
    "timeInBed": 41,
    "startTime": "2025-03-11T14:00:00.000",
    "endTime": "2025-03-11T14:41:00.000",
    "duration": 2460000,
}
ACTIVITIES = {
    "date": "2025-03-11",
    "offsetFromUTCMillis": MARQUESAS,
    "goals": {"steps": 10000},
    "activities": [],
    "summary": {
        "steps": 11342,
        "caloriesOut": 2450,
        "activityCalories": 980,
        "caloriesBMR": 1510,
        "marginalCalories": 512,
        "floors": 12,
        "elevation": 36.58,
        "sedentaryMinutes": 610,
        "lightlyActiveMinutes": 240,
        "fairlyActiveMinutes": 35,
        "veryActiveMinutes": 48,
        "restingHeartRate": 52,
        "distances": [
            {"activity": "total", "distance": 8.42},
            {"activity": "tracker", "distance": 8.42},
            {"activity": "veryActive", "distance": 3.1},
        ],
        "heartRateZones": [],
        "activeScore": -1,
        "useEstimation": True,
    },
}
HEART = {
    "dateTime": "2025-03-11",
    "offsetFromUTCMillis": MARQUESAS,
    "value": {
        "customHeartRateZones": [],
        "restingHeartRate": 52,
        "heartRateZones": [
            {"name": "Out of Range", "min": 30, "max": 112, "minutes": 1290, "caloriesOut": 1902.3}
        ],
    },
}
HRV = {
    "dateTime": "2025-03-11",
    "offsetFromUTCMillis": NEPAL,
    "value": {"dailyRmssd": 41.207, "deepRmssd": 45.886},
}
SPO2 = {
    "dateTime": "2025-03-11",
    "offsetFromUTCMillis": NEPAL,
    "value": {"avg": 95.8, "min": 91.2, "max": 99.1},
}
BR = {"dateTime": "2025-03-11", "offsetFromUTCMillis": NEPAL, "value": {"breathingRate": 14.6}}
TEMP = {
    "dateTime": "2025-03-11",
    "offsetFromUTCMillis": NEPAL,
    "logType": "dedicated_temp_sensor",
    "value": {"nightlyRelative": -0.42},
}
WEIGHT = {
    "bmi": 23.41,
    "date": "2025-03-11",
    "fat": 17.9,
    "logId": 1741687312000,
    "source": "Aria",
    "time": "07:21:52",
    "weight": 74.15,
    "offsetFromUTCMillis": KIRIBATI,
}
INTRADAY = {
    "date": "2025-03-11",
    "offsetFromUTCMillis": NEPAL,
    "datasetInterval": 1,
    "datasetType": "minute",
    "dataset": [{"time": "00:00:00", "value": 61}, {"time": "00:01:00", "value": 60}],
}
RUN = {
    "logId": 60911223344,
    "activityName": "Run",
    "activityTypeId": 90009,
    "logType": "auto_detected",
    "startTime": "2025-03-11T18:02:00.000+01:00",
    "originalStartTime": "2025-03-11T18:02:00.000+01:00",
    "duration": 3390000,
    "originalDuration": 3390000,
    "activeDuration": 3390000,
    "calories": 655,
    "steps": 9480,
    "distance": 10.24,
    "distanceUnit": "Kilometer",
    "averageHeartRate": 151,
    "elevationGain": 62.0,
    "hasActiveZoneMinutes": True,
    "lastModified": "2025-03-11T19:01:12.000Z",
}
DOCS = [
    ("sleep", SLEEP),
    ("activities", ACTIVITIES),
    ("heart", HEART),
    ("hrv", HRV),
    ("spo2", SPO2),
    ("br", BR),
    ("temp_skin", TEMP),
    ("weight", WEIGHT),
    ("heart_intraday", INTRADAY),
    ("workout", RUN),
]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_night_across_midnight_far_from_utc(fmt):
    rows = fmt.rows("fitbit", [("sleep", SLEEP)])
    assert set(rows["time"]) == {utc(2025, 3, 10, 17, 27, 30)}  # 23:12:30 at +05:45
    assert set(rows["end_time"]) == {utc(2025, 3, 11, 1, 15, 30)}
    assert set(rows["tz_offset_s"]) == {20700}
    assert fmt.values("fitbit", "sleep", SLEEP) == {
        "sleep_duration_in_bed": 467,
        "sleep_duration_asleep": 418,
        "sleep_duration_light": 232,
        "sleep_duration_deep": 82,
        "sleep_duration_rem": 104,
        "sleep_duration_awake": 49,
        "sleep_disturbances": 27,
        "sleep_latency": 0,
        "sleep_efficiency": 91,
        "sleep_start": -47.5,
        "sleep_end": 420.5,
    }


@pytest.mark.parametrize(
    ("start", "end", "hours", "profile_h", "start_utc", "end_utc", "night_offset", "clock"),
    [  # Berlin, spring forward (+01:00 at bedtime, +02:00 at wake-up: the profile's now)
        (
            "2025-03-29T23:00:00.000",
            "2025-03-30T07:00:00.000",
            7,
            2,
            utc(2025, 3, 29, 22),
            utc(2025, 3, 30, 5),
            3600,
            (-60, 420),
        ),
        # Sydney, autumn back (+11:00 at bedtime, +10:00 at wake-up)
        (
            "2025-04-05T22:00:00.000",
            "2025-04-06T06:30:00.000",
            9.5,
            10,
            utc(2025, 4, 5, 11),
            utc(2025, 4, 5, 20, 30),
            39600,
            (-120, 390),
        ),
    ],
)
def test_a_night_across_a_dst_change(
    fmt, start, end, hours, profile_h, start_utc, end_utc, night_offset, clock
):
    """Times without offset and the profile's offset of today: the end is read on it, the
    start is the end minus the log's exact duration."""
    doc = {
        **SLEEP,
        "startTime": start,
        "endTime": end,
        "duration": int(hours * 3_600_000),
        "offsetFromUTCMillis": profile_h * 3_600_000,
    }
    rows = fmt.rows("fitbit", [("sleep", doc)])
    assert set(rows["time"]) == {start_utc} and set(rows["end_time"]) == {end_utc}
    assert set(rows["tz_offset_s"]) == {night_offset}
    values = fmt.values("fitbit", "sleep", doc)
    assert (values["sleep_start"], values["sleep_end"]) == clock


def test_a_nap_is_a_nap_only(fmt):
    assert fmt.values("fitbit", "sleep", NAP) == {"nap_duration": 35}


def test_daily_documents_are_dated_at_local_midnight(fmt):
    assert fmt.values("fitbit", "activities", ACTIVITIES) == {
        "steps": 11342,
        "distance": 8420.0,
        "floors_climbed": 12,
        "total_energy": 2450,
        "active_energy": 980,
        "basal_energy": 1510,
        "sedentary_duration": 610,
        "light_activity_duration": 240,
        "moderate_activity_duration": 35,
        "vigorous_activity_duration": 48,
    }
    rows = fmt.rows("fitbit", [("activities", ACTIVITIES)])
    assert set(rows["time"]) == {utc(2025, 3, 11, 9, 30)}  # midnight at -09:30
    assert set(rows["end_time"]) == {utc(2025, 3, 12, 9, 30)}
    assert fmt.values("fitbit", "heart", HEART) == {"resting_heart_rate": 52}
    assert fmt.values("fitbit", "hrv", HRV) == {"sleep_average_hrv_rmssd": 41.207}
    assert fmt.values("fitbit", "spo2", SPO2) == {"spo2_sleep_average": 95.8, "spo2_lowest": 91.2}
    assert fmt.values("fitbit", "br", BR) == {"sleep_respiratory_rate": 14.6}
    assert fmt.values("fitbit", "temp_skin", TEMP) == {"skin_temperature_deviation": -0.42}
    assert set(fmt.rows("fitbit", [("hrv", HRV)])["time"]) == {utc(2025, 3, 10, 18, 15)}


def test_weighings_intraday_heart_rate_and_workouts(fmt):
    assert fmt.values("fitbit", "weight", WEIGHT) == {
        "weight": 74.15,
        "bmi": 23.41,
        "body_fat_percentage": 17.9,
    }
    (when,) = set(fmt.rows("fitbit", [("weight", WEIGHT)])["time"])
    assert when == utc(2025, 3, 10, 17, 21, 52)  # 07:21:52 at +14:00, the day before in UTC
    hr = fmt.rows("fitbit", [("heart_intraday", INTRADAY)]).sort("time")
    assert hr["time"].to_list() == [utc(2025, 3, 10, 18, 15), utc(2025, 3, 10, 18, 16)]
    assert hr["value"].to_list() == [61, 60]
    assert fmt.values("fitbit", "workout", RUN) == {
        "workout_duration": 56.5,
        "workout_energy": 655,
        "workout_distance": 10240.0,
        "workout_average_heart_rate": 151,
        "workout_elevation_gain": 62.0,
    }
    miles = fmt.values("fitbit", "workout", {**RUN, "distance": 6.2, "distanceUnit": "Mile"})
    assert miles["workout_distance"] == pytest.approx(6.2 * 1609.344)
    (start,) = set(fmt.rows("fitbit", [("workout", RUN)])["time"])
    assert start == utc(2025, 3, 11, 17, 2)


def _paths(doc: object, prefix: str = "") -> set[str]:
    if isinstance(doc, list):
        return set().union(*(_paths(item, prefix) for item in doc)) if doc else set()
    if not isinstance(doc, dict):
        return {prefix.rstrip(".")}
    return set().union(*(_paths(v, f"{prefix}{k}.") | {f"{prefix}{k}"} for k, v in doc.items()))


@pytest.mark.parametrize(("record_type", "doc"), DOCS)
def test_every_documented_field_is_mapped_or_ignored(record_type, doc, fmt):
    known = fmt.provider("fitbit").mappings[record_type].known_paths()
    unknown = {
        p
        for p in _paths(doc)
        if not any(p == k or p.startswith(k + ".") or k.startswith(p + ".") for k in known)
    }
    assert unknown == set()


# --- over HTTP, against the sandbox emulator ---------------------------------------------
WINDOW = Window.for_days(date(2025, 2, 10), date(2025, 2, 16))


@pytest.mark.anyio
async def test_link_refresh_pull_and_the_physiology(link, registry):
    fitbit = registry.get("fitbit")
    connection = await link(fitbit)
    assert connection.vendor_user_id and connection.tokens.refresh_token
    fresh = await fitbit.refresh(connection.tokens)
    with pytest.raises(ReconnectRequiredError):  # a refresh token is spent once
        await fitbit.refresh(connection.tokens)
    connection = connection.with_tokens(fresh)
    raw = await fitbit.pull(connection, WINDOW, MemoryTokenStore())
    assert set(raw["record_type"]) == set(fitbit.info.record_types)
    formatted = fitbit.format_split(raw)
    assert formatted.quarantine.height == 0
    values = formatted.values
    ada = PERSONS["ada"]
    for offset in range(7):
        day = date(2025, 2, 10) + timedelta(days=offset)
        truth = day_truth(ada, day)
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(
            seconds=ada.tz_offset_s
        )
        on = {
            r["indicator"]: r["value"] for r in values.filter(values["time"] == midnight).to_dicts()
        }
        if truth.activity is not None:
            assert on["steps"] == truth.activity.steps
            assert on["distance"] == pytest.approx(truth.activity.distance_m)
        s = truth.sleep
        if s is not None:
            night = {
                r["indicator"]: r["value"]
                for r in values.filter(
                    values["end_time"] == datetime.fromtimestamp(s.end, UTC)
                ).to_dicts()
            }
            assert night["sleep_duration_deep"] == round(s.deep_s / 60)
            assert night["sleep_duration_awake"] == round(s.awake_s / 60)
            bedtime = (s.start - truth.local_midnight) / 60
            assert night["sleep_start"] == pytest.approx(bedtime)
            assert on["resting_heart_rate"] == s.lowest_hr
            assert on["sleep_average_hrv_rmssd"] == s.avg_hrv_ms


@pytest.mark.anyio
async def test_no_request_is_left_then_the_client_waits_for_the_reset(link, registry, sandbox):
    fitbit = registry.get("fitbit")
    connection = await link(fitbit)
    state = sandbox.cloud["fitbit"]
    state.budget = Budget(limit=2, window_s=1.0)
    before = state.requests
    try:
        async with httpx.AsyncClient() as http:
            client = fitbit.client(http, connection, MemoryTokenStore())
            for _ in range(3):
                await client.get_json(fitbit.api() + "/1/user/-/profile.json")
    finally:
        state.budget = None
    # the second answer said Remaining 0, Reset 1: the third call waited instead of a 429
    assert len(client.waits) == 1 and 0 < client.waits[0] <= 1.0
    assert state.requests - before == 3


@pytest.mark.anyio
async def test_a_429_is_waited_out(link, registry, sandbox):
    fitbit = registry.get("fitbit")
    connection = await link(fitbit)
    state = sandbox.cloud["fitbit"]
    state.budget = Budget(limit=1, window_s=1.0)
    try:
        state.budget.take()  # someone else spent the budget
        raw = await fitbit.pull(
            connection,
            Window.for_days(date(2025, 2, 10), date(2025, 2, 10)),
            MemoryTokenStore(),
            record_types=("hrv",),
        )
    finally:
        state.budget = None
    assert raw.height == 1


def test_signed_notifications_become_sync_requests(registry, sandbox):
    fitbit = registry.get("fitbit")
    headers, body = webhook(sandbox.cloud["fitbit"], PERSONS["ada"], "sleep", date(2025, 2, 12))
    fitbit.verify_webhook({k.lower(): v for k, v in headers.items()}, body)
    requests = fitbit.parse_webhook(headers, body)
    assert {r.record_type for r in requests} == {"sleep", "hrv", "spo2", "br", "temp_skin"}
    assert {(r.vendor_user_id, r.day) for r in requests} == {
        (requests[0].vendor_user_id, date(2025, 2, 12))
    }
    with pytest.raises(WebhookVerificationError):
        fitbit.verify_webhook(
            {k.lower(): v for k, v in headers.items()}, body.replace(b"sleep", b"body_")
        )
    assert fitbit.verify_subscriber("sandbox-fitbit-verify")
    assert not fitbit.verify_subscriber("guess")


@pytest.mark.anyio
async def test_revoke_ends_the_subscription_and_the_grant(link, registry, sandbox):
    fitbit = registry.get("fitbit")
    connection = await link(fitbit)
    sub = f"{fitbit.api()}/1/user/-/apiSubscriptions/mirobody-{connection.vendor_user_id}.json"
    auth = {"Authorization": f"Bearer {connection.tokens.access_token}"}
    async with httpx.AsyncClient() as http:  # linking subscribed: asking again finds it
        assert (await http.post(sub, headers=auth)).status_code == 200
    await fitbit.revoke(connection)
    with pytest.raises(ReconnectRequiredError):
        await fitbit.pull(connection, WINDOW, MemoryTokenStore(), record_types=("hrv",))


@pytest.mark.anyio
async def test_a_day_not_over_serves_nothing_after_now(link) -> None:
    from providers.registry import ProviderRegistry
    from providers.sandbox import SandboxCloud, SandboxServer

    now = datetime.now(UTC)
    with SandboxServer(SandboxCloud(today=now.date())) as present:
        fitbit = ProviderRegistry.from_entry_points(present.settings()).get("fitbit")
        connection = await link(fitbit, "kai", connection_id="now-fitbit")
        window = Window(now - timedelta(days=2), now + timedelta(days=2))
        rows = fitbit.format(await fitbit.pull(connection, window, MemoryTokenStore()))
    assert rows.filter(rows["indicator"] == "heart_rate").height > 0
    late = rows.filter(
        (rows["end_time"].fill_null(rows["time"]) > now + timedelta(seconds=5))
        & ((rows["end_time"] - rows["time"]).fill_null(timedelta(0)) < timedelta(hours=20))
    )
    assert late.height == 0, late


@pytest.mark.anyio
async def test_intraday_not_granted_leaves_the_daily_collections(link, registry, sandbox):
    fitbit = registry.get("fitbit")
    connection = await link(fitbit)
    state = sandbox.cloud["fitbit"]
    async with httpx.AsyncClient() as http:
        client = fitbit.client(http, connection, MemoryTokenStore())
        client.offset_ms = 3_600_000.0  # the profile was asked already
        state.fail_next.append(403)  # Fitbit: this app may not read intraday data
        docs = [d async for d in fitbit.fetch(client, "heart_intraday", WINDOW)]
        assert docs == []
        hrv = [d async for d in fitbit.fetch(client, "hrv", WINDOW)]
    assert len(hrv) == 7
