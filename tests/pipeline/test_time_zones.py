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
from mirobody_assets.storage.timezones import set_zone

LAST = date(2025, 2, 18)  # within the sandbox's days (tests/support/sandbox.SANDBOX_TODAY)
DAYS = pl.Series("day", [LAST - timedelta(days=i) for i in range(3)])


def _pull(mirobody: MirobodyResource, repo: ConnectionRepository, user: str,
          slugs: tuple[str, ...]) -> pl.DataFrame:
    parts = pl.DataFrame({"user_id": [user] * DAYS.len(), "day": DAYS})
    frames = [asyncio.run(ingest.pull_partitions(mirobody.registry.get(s), repo, parts)).raw
              for s in slugs]
    return pl.concat(frames)


def _zones(engine: Engine, user: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(  # type: ignore[misc]
            "SELECT zone, source FROM user_time_zones WHERE user_id = :u "
            "ORDER BY effective_from"), {"u": user}).all()]


def test_a_zone_learned_from_garmin_dates_ouras_utc_heart_rate(
        mirobody: MirobodyResource, repo: ConnectionRepository, engine: Engine,
        make_user: Callable[[], str], link: Callable[[str, str, str], str]) -> None:
    user = make_user()
    link(user, "garmin", "kai")
    link(user, "oura", "kai")
    raw = _pull(mirobody, repo, user, ("garmin", "oura"))
    result = ingest.normalise(mirobody.registry, raw, None, partial(learned_zones, engine))
    assert _zones(engine, user) == [("Pacific/Kiritimati", "inferred")]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT timezone FROM users WHERE id = :u"),
                            {"u": user}).scalar() == "Pacific/Kiritimati"
    oura_hr = result.values.filter((pl.col("source") == "oura")
                                   & (pl.col("indicator") == "heart_rate"))
    assert oura_hr.height > 100
    assert set(oura_hr["offset_source"]) == {"inferred"}
    assert set(oura_hr["tz_offset_s"]) == {50400}
    # the second batch finds the zone it learned and adds nothing
    ingest.normalise(mirobody.registry, raw, None, partial(learned_zones, engine))
    assert _zones(engine, user) == [("Pacific/Kiritimati", "inferred")]


def test_a_zone_the_person_set_wins_over_what_vendors_say(
        mirobody: MirobodyResource, repo: ConnectionRepository, engine: Engine,
        make_user: Callable[[], str], link: Callable[[str, str, str], str]) -> None:
    user = make_user()
    link(user, "garmin", "kai")
    link(user, "oura", "kai")
    with engine.begin() as conn:
        set_zone(conn, user, "Pacific/Marquesas", None)
    raw = _pull(mirobody, repo, user, ("garmin", "oura"))
    result = ingest.normalise(mirobody.registry, raw, None, partial(learned_zones, engine))
    assert _zones(engine, user) == [("Pacific/Marquesas", "user")]
    oura_hr = result.values.filter((pl.col("source") == "oura")
                                   & (pl.col("indicator") == "heart_rate"))
    assert set(oura_hr["offset_source"]) == {"user"}
    assert set(oura_hr["tz_offset_s"]) == {-34200}
    garmin = result.values.filter(pl.col("source").str.starts_with("garmin"))
    assert set(garmin["offset_source"]) <= {"vendor", "day"}  # the vendor's own offsets stay
