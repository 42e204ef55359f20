"""One synthetic person's physiology, deterministic per (person, day).

Every emulator renders the same `DayTruth` in its vendor's fields, units and rounding, so a
person seen through every vendor carries the same underlying values."""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta


@dataclass(frozen=True)
class Person:
    """A sandbox user: stable traits from which each day is drawn."""

    key: str
    tz_offset_s: int
    iana_tz: str
    resting_hr: float
    hrv_ms: float
    weight_kg: float
    height_m: float
    bmr_kcal: float
    max_hr: int
    vo2max: float
    # The vendor account: `ada~2` is another account with ada's physiology (its own vendor
    # ids), as a vendor has many users. None: the person's own account.
    account: str | None = None

    def vendor_int_id(self, vendor: str) -> int:
        name = self.account or self.key
        return int.from_bytes(hashlib.sha256(f"{vendor}:{name}".encode()).digest()[:4]) + 1000

    def vendor_hex_id(self, vendor: str) -> str:
        return hashlib.sha256(f"{vendor}:{self.account or self.key}".encode()).hexdigest()[:32]


PERSONS: dict[str, Person] = {
    "ada": Person("ada", 3600, "Etc/GMT-1", 52.0, 62.0, 68.4, 1.71, 1480.0, 188, 46.0),
    "ben": Person("ben", -18000, "Etc/GMT+5", 58.0, 48.0, 82.1, 1.83, 1790.0, 181, 41.0),
    # As far east of UTC as anyone lives (+14:00 all year): every local day differs from its
    # UTC date for 14 hours of it.
    "kai": Person("kai", 50400, "Pacific/Kiritimati", 55.0, 58.0, 74.0, 1.76, 1620.0, 186, 44.0),
}


def sandbox_person(name: str) -> Person | None:
    """The sandbox user `name`: a person's key (`ada`), or `<key>~<account>` for another vendor
    account with the same physiology; None when the key is unknown."""
    key, sep, account = name.partition("~")
    person = PERSONS.get(key)
    if person is None or not sep:
        return person
    return replace(person, account=name) if account else None


@dataclass(frozen=True)
class SleepTruth:
    """The night that ends on the morning of `day` (times in epoch seconds UTC)."""

    start: int
    end: int
    latency_s: int
    light_s: int
    deep_s: int
    rem_s: int
    awake_s: int  # includes latency
    avg_hr: float
    lowest_hr: int
    avg_hrv_ms: int
    resp_rate: float
    spo2: float
    skin_temp_c: float
    skin_temp_dev_c: float
    score: int
    cycles: int
    disturbances: int

    @property
    def asleep_s(self) -> int:
        return self.light_s + self.deep_s + self.rem_s

    @property
    def in_bed_s(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class ActivityTruth:
    steps: int
    distance_m: int
    active_kcal: int
    bmr_kcal: int
    moderate_s: int
    vigorous_s: int
    light_s: int
    sedentary_s: int
    floors: int
    hr_min: int
    hr_avg: int
    hr_max: int
    score: int

    @property
    def total_kcal(self) -> int:
        return self.active_kcal + self.bmr_kcal


@dataclass(frozen=True)
class WorkoutTruth:
    start: int
    duration_s: int
    kcal: int
    distance_m: int
    avg_hr: int
    max_hr: int
    elevation_gain_m: int
    sport: str
    strain: float


@dataclass(frozen=True)
class BodyTruth:
    time: int
    weight_kg: float
    fat_pct: float
    muscle_kg: float
    bone_kg: float
    water_pct: float


@dataclass(frozen=True)
class DayTruth:
    """Everything that happened to `person` on the local calendar day `day`."""

    person: Person
    day: date
    sleep: SleepTruth | None
    activity: ActivityTruth | None
    workout: WorkoutTruth | None
    body: BodyTruth | None
    recovery_score: int
    readiness_score: int
    strain: float
    pending: bool
    # The last epoch second the vendors hold data for on this day: the end of the day, or
    # "now" for a day that is not over (the sandbox never serves the future).
    until: int = 2**62

    @property
    def local_midnight(self) -> int:
        """Epoch seconds of 00:00 local time on `day`."""
        midnight = datetime(self.day.year, self.day.month, self.day.day, tzinfo=UTC)
        return int(midnight.timestamp()) - self.person.tz_offset_s


def _rng(person: Person, day: date, salt: str = "") -> random.Random:
    seed = hashlib.sha256(f"{person.key}:{day.isoformat()}:{salt}".encode()).digest()
    return random.Random(int.from_bytes(seed[:8]))  # noqa: S311 (synthetic data, not crypto)


def _sleep(person: Person, day: date, midnight: int, rng: random.Random) -> SleepTruth:
    weekend_night = (day - timedelta(days=1)).weekday() >= 4  # Fri/Sat nights start later
    bedtime = (
        midnight - int(3600 * (1.0 - (1.2 if weekend_night else 0.0))) + rng.randint(-1800, 1800)
    )
    latency = rng.randint(240, 1500)
    light, deep, rem = rng.randint(12000, 15600), rng.randint(4200, 6600), rng.randint(5000, 7600)
    awake = latency + rng.randint(600, 2400)
    hrv = round(person.hrv_ms + rng.gauss(0, 7))
    lowest = round(person.resting_hr + rng.gauss(0, 2))
    asleep = light + deep + rem
    return SleepTruth(
        start=bedtime,
        end=bedtime + asleep + awake,
        latency_s=latency,
        light_s=light,
        deep_s=deep,
        rem_s=rem,
        awake_s=awake,
        avg_hr=round(lowest + 4.5 + rng.random() * 2, 2),
        lowest_hr=lowest,
        avg_hrv_ms=hrv,
        resp_rate=round(14.2 + rng.gauss(0, 0.6), 1),
        spo2=round(96.0 + rng.gauss(0, 0.8), 1),
        skin_temp_c=round(33.8 + rng.gauss(0, 0.3), 2),
        skin_temp_dev_c=round(rng.gauss(0, 0.25), 2),
        score=min(99, max(40, int(55 + asleep / 900 + rng.randint(-5, 5)))),
        cycles=rng.randint(3, 6),
        disturbances=rng.randint(3, 14),
    )


def _activity(
    person: Person, day: date, rng: random.Random, workout: WorkoutTruth | None
) -> ActivityTruth:
    weekend = day.weekday() >= 5
    steps = max(800, int(rng.gauss(6500 if weekend else 9200, 3200 if weekend else 1800)))
    if workout is not None and workout.sport == "running":
        steps += int(workout.duration_s * 2.8)
    vigorous = (workout.duration_s if workout else 0) + rng.randint(0, 600)
    moderate = rng.randint(900, 3600)
    light = rng.randint(9000, 18000)
    return ActivityTruth(
        steps=steps,
        distance_m=int(steps * 0.76),
        active_kcal=int(steps * 0.045 + vigorous / 6),
        bmr_kcal=int(person.bmr_kcal + rng.randint(-10, 10)),
        moderate_s=moderate,
        vigorous_s=vigorous,
        light_s=light,
        sedentary_s=86400 - 30000 - moderate - vigorous - light,
        floors=rng.randint(2, 18),
        hr_min=int(person.resting_hr - 4),
        hr_avg=int(person.resting_hr + 14 + rng.randint(0, 6)),
        hr_max=(workout.max_hr if workout else int(person.resting_hr + 70 + rng.randint(0, 25))),
        score=min(100, 50 + steps // 250),
    )


def day_truth(
    person: Person, day: date, today: date | None = None, now: float | None = None
) -> DayTruth:
    """The deterministic truth of one (person, day); with `now`, only what has happened by
    then (a day not over has partial totals; a sleep, workout or weighing still to come is
    absent; samples end at `until`)."""
    whole = _whole_day_truth(person, day, today)
    if now is None or whole.local_midnight + 86400 <= now:
        return replace(whole, until=whole.local_midnight + 86400)
    return _so_far(whole, int(now))


def _so_far(t: DayTruth, now: int) -> DayTruth:
    elapsed = min(1.0, max(0.0, (now - t.local_midnight) / 86400))
    a = t.activity
    if a is not None and elapsed > 0:

        def part(value: int) -> int:
            return int(value * elapsed)

        a = replace(
            a,
            steps=part(a.steps),
            distance_m=part(a.distance_m),
            active_kcal=part(a.active_kcal),
            bmr_kcal=part(a.bmr_kcal),
            moderate_s=part(a.moderate_s),
            vigorous_s=part(a.vigorous_s),
            light_s=part(a.light_s),
            sedentary_s=part(a.sedentary_s),
            floors=part(a.floors),
        )
    workout = t.workout if t.workout and t.workout.start + t.workout.duration_s <= now else None
    return replace(
        t,
        activity=a if elapsed > 0 else None,
        workout=workout,
        sleep=t.sleep if t.sleep and t.sleep.end <= now else None,
        body=t.body if t.body and t.body.time <= now else None,
        pending=True,
        until=now,
    )


def _whole_day_truth(person: Person, day: date, today: date | None) -> DayTruth:
    rng = _rng(person, day)
    midnight = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    midnight -= person.tz_offset_s
    missing = rng.random() < 0.07  # the device stayed on the charger
    pending = (today is not None and day >= today) or rng.random() < 0.05
    workout = None
    if not missing and (day.weekday() in (1, 3, 5) or rng.random() < 0.15):
        duration = rng.randint(1800, 4200)
        sport = "running" if day.weekday() != 5 else "cycling"
        avg = int(person.max_hr * (0.78 + rng.random() * 0.06))
        workout = WorkoutTruth(
            start=midnight + 18 * 3600 + rng.randint(0, 5400),
            duration_s=duration,
            kcal=int(duration / 60 * (11.5 if sport == "running" else 9.0)),
            distance_m=int(duration * (2.9 if sport == "running" else 7.5)),
            avg_hr=avg,
            max_hr=min(person.max_hr, avg + rng.randint(12, 25)),
            elevation_gain_m=rng.randint(10, 220),
            sport=sport,
            strain=round(8 + rng.random() * 8, 1),
        )
    body = None
    if not missing and rng.random() < 0.6:
        drift = 0.4 * math.sin(day.toordinal() / 9.0)
        body = BodyTruth(
            time=midnight + 7 * 3600 + rng.randint(0, 1800),
            weight_kg=round(person.weight_kg + drift + rng.gauss(0, 0.2), 2),
            fat_pct=round(18.0 + drift / 2 + rng.gauss(0, 0.3), 1),
            muscle_kg=round(person.weight_kg * 0.47, 1),
            bone_kg=round(person.weight_kg * 0.045, 1),
            water_pct=round(57.5 + rng.gauss(0, 0.4), 1),
        )
    return DayTruth(
        person=person,
        day=day,
        sleep=None if missing else _sleep(person, day, midnight, rng),
        activity=None if missing else _activity(person, day, rng, workout),
        workout=workout,
        body=body,
        recovery_score=rng.randint(25, 98),
        readiness_score=rng.randint(50, 95),
        strain=round(6 + rng.random() * 12, 1),
        pending=pending,
    )


def heart_rate(person: Person, t: int) -> int:
    """A circadian heart rate (bpm) at epoch second `t`: low at night, higher by day."""
    local_h = ((t + person.tz_offset_s) % 86400) / 3600.0
    day = datetime.fromtimestamp(t + person.tz_offset_s, UTC).date()
    rng = _rng(person, day, f"hr{int(t // 300)}")
    circadian = 9.0 * math.sin((local_h - 9.0) / 24.0 * 2 * math.pi)
    awake = 0.0 if local_h < 6.5 or local_h > 23.0 else 12.0
    return round(person.resting_hr + 6 + circadian + awake + rng.gauss(0, 2.5))


HRV_STEP_S = 300
_HRV_SWING = (0, -4, 4)


def night_hrv(s: SleepTruth, t: int) -> int:
    """The night's 5-minute RMSSD (ms) at epoch second `t`: around the night's average, in a
    swing of three steps from bedtime (the average at bedtime, 4 below 5 minutes later, 4 above
    5 minutes after that), so every vendor's readings of one instant agree."""
    return s.avg_hrv_ms + _HRV_SWING[((t - s.start) // HRV_STEP_S) % len(_HRV_SWING)]


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
