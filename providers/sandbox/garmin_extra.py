"""Garmin summaries the shared physiology has no truth for (15-minute epochs, blood pressure,
Health Snapshots, naps, stress readings), derived deterministically from it: epochs split the
day's totals exactly, so the sum of a day's epochs is its daily summary; the dailies' stress
average is that of the day's stress readings. Also the time a backfill selects a summary by."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any

from providers.sandbox.physiology import DayTruth, Person, heart_rate

BUCKET_S = 900


def jitter(person: Person, t: DayTruth, salt: str) -> float:
    """A deterministic number in [0, 1) per (person, day, salt)."""
    digest = hashlib.sha256(f"garmin:{person.key}:{t.day.isoformat()}:{salt}".encode()).digest()
    return int.from_bytes(digest[:8]) / 2**64


def split(total: int, weights: list[float]) -> list[int]:
    """`total` in integer parts proportional to `weights` (largest remainders), summing exactly."""
    whole = sum(weights)
    if whole <= 0:
        return [0] * len(weights)
    shares = [total * w / whole for w in weights]
    parts = [int(s) for s in shares]
    order = sorted(range(len(weights)), key=lambda i: (parts[i] - shares[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def epochs(base: dict[str, Any], person: Person, t: DayTruth) -> list[tuple[int, dict[str, Any]]]:
    """One day's epochs: one record per activity type per 15-minute bucket (a moving bucket
    has its WALKING/RUNNING part and, if it was not moving all along, a SEDENTARY part)."""
    a, w = t.activity, t.workout
    if a is None:
        return []
    start, off = t.local_midnight, person.tz_offset_s
    lows = [start + i * BUCKET_S for i in range(86400 // BUCKET_S)]
    running = [
        w is not None
        and w.sport == "running"
        and lo < w.start + w.duration_s
        and lo + BUCKET_S > w.start
        for lo in lows
    ]
    weights = [
        (0.2 + jitter(person, t, f"e{i}") if 6.5 <= i * BUCKET_S / 3600 < 23.0 else 0.0)
        + 6.0 * running[i]
        for i in range(len(lows))
    ]
    steps = split(a.steps, weights)
    centimetres = split(a.distance_m * 100, weights)
    kcal = split(a.active_kcal, weights)
    docs: list[tuple[int, dict[str, Any]]] = []
    for i, (lo, n) in enumerate(zip(lows, steps, strict=True)):
        uploaded = (lo + BUCKET_S) // 3600 * 3600 + 3600  # the watch syncs hourly
        common = {"startTimeInSeconds": lo, "startTimeOffsetInSeconds": off}
        active_s = min(BUCKET_S, 60 + n // 2) if n or kcal[i] else 0
        if active_s:
            docs.append(
                (
                    uploaded,
                    base
                    | common
                    | {
                        "summaryId": f"{base['summaryId']}-{i:02d}m",
                        "activityType": "RUNNING" if running[i] else "WALKING",
                        "durationInSeconds": active_s,
                        "activeTimeInSeconds": active_s,
                        "steps": n,
                        "distanceInMeters": centimetres[i] / 100,
                        "activeKilocalories": kcal[i],
                        "met": round(1.5 + n / 300, 2),
                        "intensity": "HIGHLY_ACTIVE" if n > 1200 else "ACTIVE",
                        "meanMotionIntensity": min(7, 1 + n // 250),
                        "maxMotionIntensity": 7,
                    },
                )
            )
        if active_s < BUCKET_S:
            docs.append(
                (
                    uploaded,
                    base
                    | common
                    | {
                        "summaryId": f"{base['summaryId']}-{i:02d}s",
                        "activityType": "SEDENTARY",
                        "durationInSeconds": BUCKET_S - active_s,
                        "activeTimeInSeconds": 0,
                        "steps": 0,
                        "distanceInMeters": 0.0,
                        "activeKilocalories": 0,
                        "met": 1.0,
                        "intensity": "SEDENTARY",
                        "meanMotionIntensity": 0,
                        "maxMotionIntensity": 1,
                    },
                )
            )
    return docs


def blood_pressure(
    base: dict[str, Any], person: Person, t: DayTruth
) -> list[tuple[int, dict[str, Any]]]:
    """A morning cuff reading on two days in three; every fourth one typed in by hand."""
    if t.activity is None or t.day.toordinal() % 3 == 1:
        return []
    j = jitter(person, t, "bp")
    at = t.local_midnight + 7 * 3600 + 40 * 60 + int(j * 1800)
    systolic = round(106 + (person.resting_hr - 50) * 0.9 + 10 * j)
    return [
        (
            at + 120,
            base
            | {
                "measurementTimeInSeconds": at,
                "measurementTimeOffsetInSeconds": person.tz_offset_s,
                "systolic": systolic,
                "diastolic": round(systolic * 0.64),
                "pulse": heart_rate(person, at),
                "sourceType": "MANUAL" if t.day.toordinal() % 4 == 0 else "DEVICE",
            },
        )
    ]


def health_snapshot(
    base: dict[str, Any], person: Person, t: DayTruth
) -> list[tuple[int, dict[str, Any]]]:
    """A 2-minute Health Snapshot taken in bed at bedtime, every other night, with the
    night's values at that instant (the Withings emulator's HRV samples meet it). No offset
    field: the notes' list has none."""
    s = t.sleep
    if s is None or t.activity is None or t.day.toordinal() % 2:
        return []
    at = s.start
    averages = {
        "heart_rate": float(heart_rate(person, at)),
        "stress": float(20 + int(jitter(person, t, "stress") * 40)),
        "spo2": float(round(s.spo2)),
        "respiration": s.resp_rate,
        "sdrr_hrv": float(s.avg_hrv_ms + 9),
        "rmssd_hrv": float(s.avg_hrv_ms),
    }
    local_day = datetime.fromtimestamp(at + person.tz_offset_s, UTC).date()
    return [
        (
            at + 600,
            base
            | {
                "calendarDate": local_day.isoformat(),
                "startTimeInSeconds": at,
                "durationInSeconds": 120,
                "summaries": [
                    {
                        "summaryType": kind,
                        "minValue": avg - 2,
                        "maxValue": avg + 2,
                        "avgValue": avg,
                        "epochSummaries": {"0": avg - 1, "60": avg + 1},
                    }
                    for kind, avg in averages.items()
                ],
            },
        )
    ]


def naps(person: Person, t: DayTruth) -> list[dict[str, Any]]:
    """A weekend afternoon nap (the sleeps summary of that day lists it)."""
    if t.day.weekday() < 5:
        return []
    j = jitter(person, t, "nap")
    start = t.local_midnight + 14 * 3600 + int(j * 2400)
    return [
        {
            "napStartTimeInSeconds": start,
            "napOffsetInSeconds": person.tz_offset_s,
            "napDurationInSeconds": 1200 + int(j * 30) * 60,
            "napValidation": "DEVICE",
        }
    ]


def stress_readings() -> dict[str, int]:
    """A day's 15-minute stress readings by offset in seconds (-1: not measured)."""
    return {str(off): -1 if off % 7 == 0 else 20 + off % 50 for off in range(0, 86400, 900)}


def stress_details(day: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """A day's stressDetails (`day`: its ids, calendar date, start and duration)."""
    start = int(day["startTimeInSeconds"])
    return [
        (
            start + 86400 + 300,
            day
            | {
                "timeOffsetStressLevelValues": stress_readings(),
                "timeOffsetBodyBatteryValues": {
                    str(off): 40 + off % 50 for off in range(0, 86400, 3600)
                },
                "bodyBatteryDynamicFeedbackEvent": {
                    "eventStartTimeInSeconds": start,
                    "bodyBatteryLevel": "HIGH",
                },
                "bodyBatteryActivityEvents": [],
            },
        )
    ]


def summary_start(doc: dict[str, Any], person: Person) -> int:
    """The time a backfill range selects a summary by (not its upload time)."""
    if "startTimeInSeconds" in doc:
        return int(doc["startTimeInSeconds"])
    if "measurementTimeInSeconds" in doc:
        return int(doc["measurementTimeInSeconds"])
    day = date.fromisoformat(doc["calendarDate"])  # userMetrics: local midnight of the date
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) - (
        person.tz_offset_s
    )
