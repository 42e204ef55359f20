"""One person's stored health data, written straight to the stores the API reads: fact files
(indicator values), the daily summary, raw records and a WHOOP connection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, text

from tests.support.facts import write_values

# The daily-summary indicators `seed_user_data` can write.
SUMMARIES = ("steps", "heart_rate", "resting_heart_rate", "sleep_duration_asleep")


def seed_user_data(
    engine: Engine,
    data_dir: Path,
    user_id: str,
    *,
    days: int = 3,
    first: date = date(2025, 1, 1),
    steps_base: float = 1000.0,
    heart_rate_every_min: int = 30,
    summaries: Sequence[str] = SUMMARIES,
    raw_records: bool = True,
) -> None:
    """For `days` UTC days from `first`: heart rate every `heart_rate_every_min` minutes from
    two sources (whoop, and garmin.fenix7 2 /min higher; 60 + slot % 10), whoop steps
    (`steps_base` + day index) at 08:00-09:00, the daily `summaries` (steps as stored; heart
    rate 65 from both sources; resting heart rate 50 + d % 3; sleep 25200 + 60 d s), a
    whoop `cycle` raw record per day if `raw_records`, and an active WHOOP connection."""
    unknown = set(summaries) - set(SUMMARIES)
    assert not unknown, f"no such seeded summary: {sorted(unknown)}"
    slots = 24 * 60 // heart_rate_every_min
    values: list[dict[str, object]] = []
    rows: list[dict[str, object]] = []
    for d in range(days):
        day = first + timedelta(days=d)
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        for slot in range(slots):
            for source, bias in (("whoop", 0.0), ("garmin.fenix7", 2.0)):
                values.append(
                    {
                        "indicator": "heart_rate",
                        "source": source,
                        "day": day,
                        "time": midnight + timedelta(minutes=heart_rate_every_min * slot),
                        "end": None,
                        "value": 60.0 + slot % 10 + bias,
                        "unit": "/min",
                    }
                )
        values.append(
            {
                "indicator": "steps",
                "source": "whoop",
                "day": day,
                "time": midnight + timedelta(hours=8),
                "end": midnight + timedelta(hours=9),
                "value": steps_base + d,
                "unit": "{steps}",
            }
        )
        daily = {
            "steps": (steps_base + d, "{steps}", 1, "whoop"),
            "heart_rate": (65.0, "/min", slots, "whoop,garmin.fenix7"),
            "resting_heart_rate": (50.0 + d % 3, "/min", 1, "whoop"),
            "sleep_duration_asleep": (25200.0 + 60 * d, "s", 1, "whoop"),
        }
        rows += [
            {
                "user": user_id,
                "indicator": name,
                "day": day,
                "value": daily[name][0],
                "unit": daily[name][1],
                "n": daily[name][2],
                "sources": daily[name][3],
            }
            for name in summaries
        ]
    write_values(data_dir, user_id, values)
    with engine.begin() as conn:
        if rows:
            conn.execute(
                text(
                    "INSERT INTO daily_summary (user_id, indicator, day, value, unit, source, "
                    "n_values, sources) VALUES (:user, :indicator, :day, :value, :unit, 'whoop', "
                    ":n, :sources)"
                ),
                rows,
            )
        if raw_records:
            conn.execute(
                text(
                    "INSERT INTO raw_records (user_id, provider, record_type, vendor_id, "
                    "content_hash, day, payload) VALUES (:user, 'whoop', 'cycle', :vid, :hash, "
                    ":day, CAST(:payload AS jsonb))"
                ),
                [
                    {
                        "user": user_id,
                        "vid": f"c{d}",
                        "hash": f"h{d}",
                        "day": first + timedelta(days=d),
                        "payload": '{"strain": 10.5}',
                    }
                    for d in range(days)
                ],
            )
        conn.execute(
            text(
                "INSERT INTO provider_connections (user_id, provider, status, last_success_at) "
                "VALUES (:user, 'whoop', 'active', now()) ON CONFLICT DO NOTHING"
            ),
            {"user": user_id},
        )
