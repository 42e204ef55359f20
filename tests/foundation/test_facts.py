"""The fact table's Parquet files: partition replaces, kept records, torn writes, migration."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, create_engine, text

from indicators.frames import INDICATOR_VALUE_COLUMNS
from mirobody_assets.storage import migrate
from mirobody_assets.storage.engine import sqlalchemy_url
from mirobody_assets.storage.facts import FactStore, fact_store
from mirobody_assets.storage.user_locks import lock_months

USER = "00000000-0000-4000-8000-000000000001"


def _values(days: list[date], value: float = 60.0, source: str = "oura") -> pl.DataFrame:
    """Three heart-rate samples at noon UTC of each day, in the frame contract."""
    rows = [
        {
            "user_id": USER,
            "indicator": "heart_rate",
            "time": datetime(d.year, d.month, d.day, 12, tzinfo=UTC) + timedelta(minutes=m),
            "tz_offset_s": 0,
            "value": value + m,
            "unit": "/min",
            "source": source,
            "record_id": f"r{d.day}",
        }
        for d in days
        for m in range(3)
    ]
    frame = pl.DataFrame(
        rows,
        schema={
            c: INDICATOR_VALUE_COLUMNS[c]
            for c in (
                "user_id",
                "indicator",
                "time",
                "tz_offset_s",
                "value",
                "unit",
                "source",
                "record_id",
            )
        },
    )
    return frame.with_columns(
        pl.lit(None, t).alias(c)
        for c, t in INDICATOR_VALUE_COLUMNS.items()
        if c not in frame.columns
    ).select(list(INDICATOR_VALUE_COLUMNS))


def _parts(days: list[date]) -> pl.DataFrame:
    return pl.DataFrame({"user_id": [USER] * len(days), "day": days})


def test_a_partition_replace_keeps_the_months_other_days_and_a_rerun_changes_nothing(
    tmp_path: Path,
) -> None:
    store = FactStore(tmp_path)
    jan = [date(2025, 1, d) for d in (1, 2, 3)]
    assert store.replace_partitions(_values(jan), _parts(jan)) == (9, 1)
    # day 2 again with other values: days 1 and 3 stay as they were
    store.replace_partitions(_values([jan[1]], value=90.0), _parts([jan[1]]))
    stored = store.read_partitions(_parts(jan), with_day=True)
    assert stored.group_by("day").agg(pl.col("value").min()).sort("day").rows() == [
        (jan[0], 60.0),
        (jan[1], 90.0),
        (jan[2], 60.0),
    ]
    before = store.path(USER, "2025-01").stat().st_mtime_ns
    assert store.replace_partitions(_values([jan[1]], value=90.0), _parts([jan[1]])) == (3, 0)
    assert store.path(USER, "2025-01").stat().st_mtime_ns == before  # nothing rewritten
    # a run without values for its days empties exactly those days
    store.replace_partitions(_values([]), _parts([jan[1]]))
    assert store.read_partitions(_parts(jan), with_day=True)["day"].unique().sort().to_list() == [
        jan[0],
        jan[2],
    ]


def test_values_of_records_that_did_not_format_are_kept(tmp_path: Path) -> None:
    store = FactStore(tmp_path)
    day = [date(2025, 1, 5)]
    store.replace_partitions(_values(day), _parts(day))
    kept = pl.DataFrame({"user_id": [USER], "provider": ["oura"], "record_id": ["r5"]})
    rows, _ = store.replace_partitions(_values([]), _parts(day), kept)
    assert rows == 3
    assert store.read_partitions(_parts(day)).height == 3


def test_an_interrupted_write_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FactStore(tmp_path)
    day = [date(2025, 1, 7)]
    store.replace_partitions(_values(day), _parts(day))
    path = store.path(USER, "2025-01")
    old = path.read_bytes()

    def torn(frame: pl.DataFrame, file: Path, **_: object) -> None:
        Path(file).write_bytes(b"PAR1 half a file")  # the process dies mid-write
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", torn)
    with pytest.raises(OSError):
        store.replace_partitions(_values(day, value=99.0), _parts(day))
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert pl.read_parquet(path).height == 3
    assert sorted(p.name for p in path.parent.iterdir()) == ["2025-01.parquet"]


def test_migration_0010_moves_the_rows_to_parquet_and_can_run_again(
    empty_database_url: str, tmp_path: Path
) -> None:
    migrate.upgrade(empty_database_url, "0009")
    engine = create_engine(sqlalchemy_url(empty_database_url))
    try:
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO users (id, email) VALUES (:u, 'a@example.org')"), {"u": USER}
            )
            for d in (date(2025, 1, 31), date(2025, 2, 1)):
                conn.execute(
                    text(
                        "INSERT INTO indicator_values (user_id, indicator, source, time, day, "
                        "value, unit, record_id) VALUES (:u, 'steps', 'garmin', :t, :d, 100, "
                        "'{steps}', 'x')"
                    ),
                    {"u": USER, "d": d, "t": datetime(d.year, d.month, d.day, 9, tzinfo=UTC)},
                )
        store = fact_store(tmp_path)
        # a first attempt that stopped before the table went left a stale file behind
        store.replace_partitions(_values([date(2025, 1, 31)]), _parts([date(2025, 1, 31)]))
        migrate.upgrade(empty_database_url, "0010", data_dir=tmp_path)
        with engine.connect() as conn:
            assert not conn.execute(
                text("SELECT to_regclass('indicator_values') IS NOT NULL")
            ).scalar_one()
        moved = store.scan_all(USER).collect()
        assert moved.select("day", "indicator", "value").sort("day").rows() == [
            (date(2025, 1, 31), "steps", 100.0),
            (date(2025, 2, 1), "steps", 100.0),
        ]
        assert [p.name for p in store.user_files(USER)] == ["2025-01.parquet", "2025-02.parquet"]
        migrate.downgrade(empty_database_url, "0009")  # the empty table comes back
        migrate.upgrade(empty_database_url, "0010", data_dir=tmp_path)
        assert store.scan_all(USER).collect().height == 2  # the files are left as they were
    finally:
        engine.dispose()


def test_one_writer_per_user_month_file(engine: Engine) -> None:
    months = pl.DataFrame({"user_id": [USER], "month": ["2025-01"]})
    other = pl.DataFrame({"user_id": [USER], "month": ["2025-02"]})
    taken = text("SELECT pg_try_advisory_xact_lock(hashtext('facts|' || :k))")
    with engine.begin() as first:
        lock_months(first, months)
        with engine.begin() as second:
            assert not second.execute(taken, {"k": f"{USER}|2025-01"}).scalar_one()
            assert second.execute(taken, {"k": f"{USER}|2025-02"}).scalar_one()
            lock_months(second, other)  # another month of the same user: no wait
    with engine.begin() as third:  # released at the end of the first writer's transaction
        assert third.execute(taken, {"k": f"{USER}|2025-01"}).scalar_one()


def test_the_same_store_works_on_an_fsspec_url() -> None:
    store = FactStore(f"memory://facts-{uuid.uuid4().hex}/indicator_values")
    jan = [date(2025, 1, 30), date(2025, 1, 31)]
    assert store.replace_partitions(_values(jan), _parts(jan)) == (6, 1)
    store.replace_partitions(_values([jan[0]], value=90.0), _parts([jan[0]]))
    stored = store.read_partitions(_parts(jan), with_day=True)
    assert stored.group_by("day").agg(pl.col("value").min()).sort("day").rows() == [
        (jan[0], 90.0),
        (jan[1], 60.0),
    ]
    assert store.scan_user(USER, jan[1], jan[1]).collect().height == 3
    assert store.delete_user(USER) == 1
    assert store.user_files(USER) == []
