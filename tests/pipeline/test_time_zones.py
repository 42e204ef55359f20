"""The pipeline learns where a person lives from the offsets their vendors state, dates the
samples sent without one in that zone, and follows a zone the person set themselves."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

import polars as pl
from sqlalchemy import Engine, text

from mirobody_assets import ingest
from mirobody_assets.chunk_steps import learned_zones
from mirobody_assets.connections import ConnectionRepository
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.storage.raw_store import insert_raw_records
from mirobody_assets.storage.timezones import set_zone

LAST = date(2025, 2, 18)  # within the sandbox's days (tests/support/sandbox.SANDBOX_TODAY)
DAYS = pl.Series("day", [LAST - timedelta(days=i) for i in range(3)])


def _pull(
    mirobody: MirobodyResource, repo: ConnectionRepository, user: str, slugs: tuple[str, ...]
) -> pl.DataFrame:
    parts = pl.DataFrame({"user_id": [user] * DAYS.len(), "day": DAYS})
    frames = [
        asyncio.run(ingest.pull_partitions(mirobody.registry.get(s), repo, parts)).raw
        for s in slugs
    ]
    return pl.concat(frames)


def _zones(engine: Engine, user: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(  # type: ignore[misc]
                    "SELECT zone, source FROM user_time_zones WHERE user_id = :u "
                    "ORDER BY effective_from"
                ),
                {"u": user},
            ).all()
        ]


def test_a_zone_learned_from_garmin_dates_ouras_utc_heart_rate(
    mirobody: MirobodyResource,
    repo: ConnectionRepository,
    engine: Engine,
    make_user: Callable[[], str],
    link: Callable[..., str],
) -> None:
    user = make_user()
    link(user, "garmin", "kai", known_zone=False)
    link(user, "oura", "kai", known_zone=False)
    raw = _pull(mirobody, repo, user, ("garmin", "oura"))
    result = ingest.normalise(mirobody.registry, raw, None, partial(learned_zones, engine))
    assert _zones(engine, user) == [("Pacific/Kiritimati", "inferred")]
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT timezone FROM users WHERE id = :u"), {"u": user}).scalar()
            == "Pacific/Kiritimati"
        )
    oura_hr = result.values.filter(
        (pl.col("source") == "oura") & (pl.col("indicator") == "heart_rate")
    )
    assert oura_hr.height > 100
    assert set(oura_hr["offset_source"]) == {"inferred"}
    assert set(oura_hr["tz_offset_s"]) == {50400}
    # the second batch finds the zone it learned and adds nothing
    ingest.normalise(mirobody.registry, raw, None, partial(learned_zones, engine))
    assert _zones(engine, user) == [("Pacific/Kiritimati", "inferred")]


def test_stored_days_a_learned_zone_re_dates_are_re_derived(
    mirobody: MirobodyResource,
    repo: ConnectionRepository,
    engine: Engine,
    make_user: Callable[[], str],
    link: Callable[..., str],
) -> None:
    user = make_user()
    link(user, "garmin", "kai", known_zone=False)
    link(user, "oura", "kai", known_zone=False)
    # a day of Oura heart rate normalised earlier, when no zone was known (dated in UTC)
    early = (
        _pull(mirobody, repo, user, ("oura",))
        .filter(pl.col("record_type") == "heartrate")
        .head(1)
        .with_columns(
            pl.lit(date(2025, 1, 5)).alias("day"), pl.lit("heartrate:2025-01-05").alias("vendor_id")
        )
    )
    with engine.begin() as conn:
        insert_raw_records(conn, early)
    raw = _pull(mirobody, repo, user, ("garmin", "oura"))
    ingest.normalise(mirobody.registry, raw, None, partial(learned_zones, engine))
    with engine.connect() as conn:
        requests = conn.execute(
            text(
                "SELECT start_day, end_day, requested_by FROM sync_requests WHERE user_id = :u "
                "AND payload->>'reason' = 'time zone changed'"
            ),
            {"u": user},
        ).all()
    assert [tuple(r) for r in requests] == [(date(2025, 1, 4), date(2025, 1, 6), "pipeline")]
    # learned once: nothing more is asked the next time
    ingest.normalise(mirobody.registry, raw, None, partial(learned_zones, engine))
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM sync_requests WHERE user_id = :u"), {"u": user}
            ).scalar()
            == 1
        )


def test_a_zone_the_person_set_wins_over_what_vendors_say(
    mirobody: MirobodyResource,
    repo: ConnectionRepository,
    engine: Engine,
    make_user: Callable[[], str],
    link: Callable[..., str],
) -> None:
    user = make_user()
    link(user, "garmin", "kai", known_zone=False)
    link(user, "oura", "kai", known_zone=False)
    with engine.begin() as conn:
        set_zone(conn, user, "Pacific/Marquesas", None)
    raw = _pull(mirobody, repo, user, ("garmin", "oura"))
    result = ingest.normalise(mirobody.registry, raw, None, partial(learned_zones, engine))
    assert _zones(engine, user) == [("Pacific/Marquesas", "user")]
    oura_hr = result.values.filter(
        (pl.col("source") == "oura") & (pl.col("indicator") == "heart_rate")
    )
    assert set(oura_hr["offset_source"]) == {"user"}
    assert set(oura_hr["tz_offset_s"]) == {-34200}
    garmin = result.values.filter(pl.col("source").str.starts_with("garmin"))
    assert set(garmin["offset_source"]) <= {"vendor", "day"}  # the vendor's own offsets stay
