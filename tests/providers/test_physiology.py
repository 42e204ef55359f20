"""The sandbox's synthetic physiology: deterministic per (person, day) and plausible."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from statistics import mean

from providers.sandbox.physiology import PERSONS, day_truth, days_between, heart_rate

ADA = PERSONS["ada"]
DAYS = days_between(date(2025, 1, 1), date(2025, 6, 30))


def test_the_same_person_and_day_give_the_same_truth():
    assert day_truth(ADA, date(2025, 3, 11)) == day_truth(ADA, date(2025, 3, 11))
    assert day_truth(ADA, date(2025, 3, 11)) != day_truth(PERSONS["ben"], date(2025, 3, 11))


def test_heart_rate_is_circadian_low_at_night_high_by_day():
    day = datetime(2025, 3, 11, tzinfo=UTC) - timedelta(seconds=ADA.tz_offset_s)
    night = [
        heart_rate(ADA, int((day + timedelta(hours=3, minutes=m)).timestamp()))
        for m in range(0, 120, 5)
    ]
    noon = [
        heart_rate(ADA, int((day + timedelta(hours=14, minutes=m)).timestamp()))
        for m in range(0, 120, 5)
    ]
    assert mean(night) + 10 < mean(noon)
    assert min(night) > 35 and max(noon) < 120


def test_sleep_stages_add_up_and_nights_end_in_the_morning():
    for t in (day_truth(ADA, d) for d in DAYS):
        if t.sleep is None:
            continue
        s = t.sleep
        assert s.in_bed_s == s.asleep_s + s.awake_s
        wake_local_hour = ((s.end + ADA.tz_offset_s) % 86400) / 3600
        assert 5 <= wake_local_hour <= 11
        assert s.lowest_hr < s.avg_hr


def test_weekends_walk_less_some_days_are_missing_and_today_is_pending():
    truths = [day_truth(ADA, d, today=DAYS[-1]) for d in DAYS]
    weekday = [t.activity.steps for t in truths if t.activity and t.day.weekday() < 5]
    weekend = [t.activity.steps for t in truths if t.activity and t.day.weekday() >= 5]
    assert mean(weekend) < mean(weekday)
    missing = sum(t.sleep is None for t in truths)
    assert 0 < missing < len(truths) * 0.15
    assert truths[-1].pending
    assert 0 < sum(t.workout is not None for t in truths) < len(truths)
