"""Polar AccessLink sandbox: continuous heart rate (device clock, no offset) and Elixir
biosensing documents (body and skin temperature, SpO2 and ECG tests), from the shared
physiology."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from providers.sandbox.cloud import iso_local
from providers.sandbox.physiology import DayTruth, Person, heart_rate


def user_url(person: Person) -> str:
    return f"https://www.polaraccesslink.com/v3/users/{person.vendor_int_id('polar')}"


def _hms(epoch: int, offset_s: int) -> str:
    seconds = (epoch + offset_s) % 86400
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _utc_naive(epoch: int) -> str:
    return iso_local(epoch, 0)[:19]  # biosensing periods: UTC without an offset


def continuous_hr(person: Person, t: DayTruth) -> list[dict[str, Any]]:
    """5-min samples over the local day, in device clock time (no offset in the document)."""
    if t.activity is None:  # the watch stayed on the charger
        return []
    stamps = range(t.local_midnight, min(t.local_midnight + 86400, t.until + 1), 300)
    return [
        {
            "polar_user": user_url(person),
            "date": t.day.isoformat(),
            "heart_rate_samples": [
                {"heart_rate": heart_rate(person, ts), "sample_time": _hms(ts, person.tz_offset_s)}
                for ts in stamps
            ],
        }
    ]


def biosensing(kind: str, person: Person, t: DayTruth) -> list[dict[str, Any]]:
    """Elixir biosensing documents of the night that ends on `t.day` (and morning tests)."""
    s, off, device = t.sleep, person.tz_offset_s, {"source_device_id": "C2A91F3E"}
    if s is None:
        return []
    asleep_at = s.start + s.latency_s
    if kind == "skintemperature":
        return [
            {
                "sleep_date": t.day.isoformat(),
                "sleep_time_skin_temperature_celsius": s.skin_temp_c,
                "deviation_from_baseline_celsius": s.skin_temp_dev_c,
            }
        ]
    if kind == "bodytemperature":
        # the wrist sensor reads skin temperature: a little below the night's mean early on
        samples = [
            {
                "temperature_celsius": round(s.skin_temp_c - 0.3 + 0.1 * (i % 4), 2),
                "recording_time_delta_milliseconds": (ts - asleep_at) * 1000,
            }
            for i, ts in enumerate(range(asleep_at, s.end, 1800))
        ]
        return [
            device
            | {
                "measurement_type": "TM_SKIN_TEMPERATURE",
                "sensor_location": "SL_DISTAL",
                "start_time": _utc_naive(asleep_at),
                "end_time": _utc_naive(s.end),
                "modified_time": _utc_naive(s.end + 600),
                "samples": samples,
            }
        ]
    n = t.day.toordinal()
    if kind == "spo2":
        at = s.end + 1800
        tests = (
            []
            if n % 3
            else [
                device
                | {
                    "test_time": at,
                    "time_zone_offset": off // 60,
                    "test_status": "SPO2_TEST_PASSED",
                    "blood_oxygen_percent": round(s.spo2),
                    "spo2_class": "SPO2_CLASS_NORMAL",
                    "spo2_value_deviation_from_baseline": "DEVIATION_USUAL",
                    "spo2_quality_average_percent": 92.0,
                    "average_heart_rate_bpm": heart_rate(person, at),
                    "heart_rate_variability_ms": float(s.avg_hrv_ms - 6),
                    "spo2_hrv_deviation_from_baseline": "DEVIATION_USUAL",
                    "altitude_meters": 50.0,
                }
            ]
        )
        if n % 5 == 0:  # a second try that failed: it measures nothing
            tests.append(
                device
                | {
                    "test_time": at + 600,
                    "time_zone_offset": off // 60,
                    "test_status": "SPO2_TEST_INCONCLUSIVE_TOO_LOW_OVERALL_QUALITY",
                    "blood_oxygen_percent": 0,
                    "spo2_class": "SPO2_CLASS_UNKNOWN",
                    "spo2_value_deviation_from_baseline": "DEVIATION_NO_BASELINE",
                    "spo2_quality_average_percent": 31.0,
                    "average_heart_rate_bpm": 0,
                    "heart_rate_variability_ms": 0.0,
                    "spo2_hrv_deviation_from_baseline": "DEVIATION_NO_BASELINE",
                    "altitude_meters": 50.0,
                }
            )
        return tests
    if kind == "ecg":
        if n % 4:
            return []
        at = s.end + 2400
        hr = heart_rate(person, at)
        return [
            device
            | {
                "test_time": at,
                "time_zone_offset": off // 60,
                "average_heart_rate_bpm": hr,
                "heart_rate_variability_ms": float(s.avg_hrv_ms - 6),
                "heart_rate_variability_level": "ECG_HRV_LEVEL_USUAL",
                "rri_ms": round(60000 / hr, 1),
                "pulse_transit_time_systolic_ms": 212.0,
                "pulse_transit_time_diastolic_ms": 248.0,
                "pulse_transit_time_quality_index": 87.0,
                "samples": [
                    {"recording_time_delta_ms": i * 8, "amplitude_mv": round(0.05 * (i % 5), 2)}
                    for i in range(10)
                ],
                "quality_measurements": [
                    {"recording_time_delta_ms": 0, "quality_level": "ECG_QUALITY_HIGH"}
                ],
            }
        ]
    raise HTTPException(404, "unknown biosensing resource")
