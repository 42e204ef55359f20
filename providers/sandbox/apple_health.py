"""An Apple Health export of a sandbox person, from the same physiology as every emulator.

Apple Health has no server API: the sandbox writes the file a person would upload
(`export.xml`, optionally zipped as Apple's `export.zip`), with the layout of the Health
app's export: a DOCTYPE, `ExportDate`, `Me`, then Records (watch and phone, each with its
device), a night's sleep stages, workouts (iOS 16+ style with WorkoutStatistics on cycling
days, attribute totals on running days) and the ignored types a real export has."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO
from xml.sax.saxutils import quoteattr

from providers.sandbox.physiology import (
    Person,
    SleepTruth,
    WorkoutTruth,
    day_truth,
    days_between,
    heart_rate,
)

WATCH = (
    "Ada\u2019s Apple Watch",  # the typographic apostrophe of iOS names
    "<<HKDevice: 0x283e1c0a0>, name:Apple Watch, "
    "manufacturer:Apple Inc., model:Watch, hardware:Watch7,1, software:11.2>",
)
PHONE = (
    "iPhone",
    "<<HKDevice: 0x283e1c1e0>, name:iPhone, manufacturer:Apple Inc., "
    "model:iPhone, hardware:iPhone16,1, software:18.2>",
)
SCALE_APP = ("Health Mate", None)
HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 13 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
]>
<HealthData locale="en_GB">
"""
HQ = "HKQuantityTypeIdentifier"
CYCLES = 4


def stamp(t: int, offset_s: int) -> str:
    """Epoch seconds as the export writes them: local time and its offset."""
    local = datetime.fromtimestamp(t + offset_s, UTC)
    sign = "-" if offset_s < 0 else "+"
    hours, rest = divmod(abs(offset_s), 3600)
    return f"{local:%Y-%m-%d %H:%M:%S} {sign}{hours:02d}{rest // 60:02d}"


def _attrs(**attrs: object) -> str:
    return " ".join(f"{k}={quoteattr(str(v))}" for k, v in attrs.items() if v is not None)


def _record(
    hk_type: str,
    source: tuple[str, str | None],
    unit: str | None,
    start: int,
    end: int,
    value: object,
    offset: int,
    inner: str = "",
) -> str:
    attrs = _attrs(
        type=hk_type,
        sourceName=source[0],
        sourceVersion="11.2",
        device=source[1],
        unit=unit,
        creationDate=stamp(end + 60, offset),
        startDate=stamp(start, offset),
        endDate=stamp(end, offset),
        value=value,
    )
    return f" <Record {attrs}>{inner}</Record>\n" if inner else f" <Record {attrs}/>\n"


def _split(total: float, parts: int) -> list[float]:
    """`total` in `parts` that add up to it (to the 6th decimal)."""
    base = [round(total / parts, 6)] * parts
    base[-1] = round(total - sum(base[:-1]), 6)
    return base


def day_records(
    person: Person, day: date, heart_every_s: int = 300, today: date | None = None
) -> Iterator[str]:
    """The export's elements of one local day (the night ending that morning included);
    `today`: the sandbox cloud's today, so that the day is drawn as its emulators draw it."""
    truth = day_truth(person, day, today=today)
    off = person.tz_offset_s
    midnight = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) - off
    s = truth.sleep
    if s is not None:
        yield from _night(s, off)
        mid = (s.start + s.end) // 2
        yield _record(
            HQ + "RestingHeartRate",
            WATCH,
            "count/min",
            midnight,
            midnight + 86399,
            s.lowest_hr,
            off,
        )
        yield _record(
            HQ + "HeartRateVariabilitySDNN",
            WATCH,
            "ms",
            s.start + 3600,
            s.start + 3660,
            s.avg_hrv_ms,
            off,
            "<HeartRateVariabilityMetadataList><InstantaneousBeatsPerMinute "
            'bpm="55" time="1:12:03.45 AM"/></HeartRateVariabilityMetadataList>',
        )
        yield _record(HQ + "OxygenSaturation", WATCH, "%", mid, mid, round(s.spo2 / 100, 3), off)
        yield _record(HQ + "RespiratoryRate", WATCH, "count/min", mid, mid, s.resp_rate, off)
        yield _record(
            HQ + "AppleSleepingWristTemperature", WATCH, "degC", s.start, s.end, s.skin_temp_c, off
        )
    a = truth.activity
    if a is not None:
        hours = range(8, 21)  # the watch's hourly totals, 08:00..21:00 local
        steps = [a.steps // len(hours)] * len(hours)
        steps[-1] += a.steps - sum(steps)
        for part, (metres, kcal) in enumerate(
            zip(
                _split(a.distance_m / 1000, len(hours)),
                _split(a.active_kcal, len(hours)),
                strict=True,
            )
        ):
            start = midnight + hours[part] * 3600
            yield _record(HQ + "StepCount", WATCH, "count", start, start + 3600, steps[part], off)
            yield _record(
                HQ + "DistanceWalkingRunning", WATCH, "km", start, start + 3600, metres, off
            )
            yield _record(HQ + "ActiveEnergyBurned", WATCH, "kcal", start, start + 3600, kcal, off)
        # The phone counts steps too (its own source: priorities prefer the watch).
        yield _record(
            HQ + "StepCount",
            PHONE,
            "count",
            midnight + 12 * 3600,
            midnight + 13 * 3600,
            a.steps // 2,
            off,
        )
        yield _record(
            HQ + "BasalEnergyBurned", WATCH, "kcal", midnight, midnight + 86400, a.bmr_kcal, off
        )
        yield _record(
            HQ + "FlightsClimbed",
            PHONE,
            "count",
            midnight + 9 * 3600,
            midnight + 9 * 3600 + 600,
            a.floors,
            off,
        )
        for t in range(midnight + 7 * 3600, midnight + 23 * 3600, heart_every_s):
            yield _record(
                HQ + "HeartRate",
                WATCH,
                "count/min",
                t,
                t,
                heart_rate(person, t),
                off,
                '<MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>',
            )
        yield _record(
            HQ + "AppleStandTime",
            WATCH,
            "min",
            midnight + 10 * 3600,
            midnight + 10 * 3600 + 300,
            5,
            off,
        )  # ignored type, as in real exports
        yield (
            f' <ActivitySummary dateComponents="{day.isoformat()}" activeEnergyBurned='
            f'"{a.active_kcal}" activeEnergyBurnedGoal="500" activeEnergyBurnedUnit="kcal"/>'
            "\n"
        )
    b = truth.body
    if b is not None:
        yield _record(HQ + "BodyMass", SCALE_APP, "kg", b.time, b.time, b.weight_kg, off)
        yield _record(
            HQ + "BodyFatPercentage", SCALE_APP, "%", b.time, b.time, round(b.fat_pct / 100, 4), off
        )
    w = truth.workout
    if w is not None:
        yield _workout(w, off)


def _night(s: SleepTruth, off: int) -> Iterator[str]:
    """Sleep stages of a night as the watch writes them: awake (latency), then 90-minute
    cycles of core, deep and REM, the remaining awake time at the end."""
    value = "HKCategoryValueSleepAnalysis"
    t = s.start
    yield _record(
        "HKCategoryTypeIdentifierSleepAnalysis",
        WATCH,
        None,
        t,
        t + s.latency_s,
        value + "Awake",
        off,
    )
    t += s.latency_s
    totals = {"Core": s.light_s, "Deep": s.deep_s, "REM": s.rem_s}
    for i in range(CYCLES):
        for stage, total in totals.items():
            # whole seconds per cycle; the last cycle takes the rest (the truth's exact sum)
            length = total // CYCLES if i < CYCLES - 1 else total - (CYCLES - 1) * (total // CYCLES)
            yield _record(
                "HKCategoryTypeIdentifierSleepAnalysis",
                WATCH,
                None,
                t,
                t + length,
                value + "Asleep" + stage,
                off,
            )
            t += length
    yield _record(
        "HKCategoryTypeIdentifierSleepAnalysis",
        WATCH,
        None,
        t,
        t + s.awake_s - s.latency_s,
        value + "Awake",
        off,
    )


def _workout(w: WorkoutTruth, off: int) -> str:
    end = w.start + w.duration_s
    common = dict(
        sourceName=WATCH[0],
        sourceVersion="11.2",
        device=WATCH[1],
        creationDate=stamp(end + 60, off),
        startDate=stamp(w.start, off),
        endDate=stamp(end, off),
    )
    if w.sport == "running":
        attrs = _attrs(
            workoutActivityType="HKWorkoutActivityTypeRunning",
            duration=w.duration_s / 60,
            durationUnit="min",
            totalDistance=w.distance_m / 1000,
            totalDistanceUnit="km",
            totalEnergyBurned=w.kcal,
            totalEnergyBurnedUnit="kcal",
            **common,
        )
        return f" <Workout {attrs}/>\n"
    attrs = _attrs(
        workoutActivityType="HKWorkoutActivityTypeCycling",
        duration=w.duration_s / 60,
        durationUnit="min",
        **common,
    )
    stats = "".join(
        f"  <WorkoutStatistics {_attrs(type=HQ + t, startDate=common['startDate'], endDate=common['endDate'], sum=v, unit=u)}/>\n"  # noqa: E501
        for t, v, u in (
            ("ActiveEnergyBurned", w.kcal, "kcal"),
            ("DistanceCycling", w.distance_m / 1000, "km"),
            ("HeartRate", w.avg_hr, "count/min"),
        )
    )
    return f" <Workout {attrs}>\n{stats} </Workout>\n"


def write_export(
    out: IO[str],
    person: Person,
    first: date,
    last: date,
    exported_at: datetime | None = None,
    heart_every_s: int = 300,
    today: date | None = None,
) -> None:
    """Write export.xml of `person` for local days first..last (`today`: the sandbox cloud's
    today, so that the days are drawn as its emulators draw them)."""
    exported = exported_at or datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC)
    out.write(HEADER)
    out.write(f' <ExportDate value="{stamp(int(exported.timestamp()), person.tz_offset_s)}"/>\n')
    out.write(
        ' <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-05-01" '
        'HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"/>\n'
    )
    for day in days_between(first, last):
        for element in day_records(person, day, heart_every_s, today):
            out.write(element)
    out.write("</HealthData>\n")


def write_export_zip(
    path: Path, person: Person, first: date, last: date, heart_every_s: int = 300
) -> Path:
    """Apple's export.zip: `apple_health_export/export.xml`."""
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("apple_health_export/export.xml", "w") as raw,
    ):
        text = io.TextIOWrapper(raw, encoding="utf-8")
        write_export(text, person, first, last, heart_every_s=heart_every_s)
        text.flush()
        text.detach()
    return path
