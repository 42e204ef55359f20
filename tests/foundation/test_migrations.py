"""Alembic migrations against a real, empty PostgreSQL database."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, inspect

from mirobody_assets.storage import migrate
from mirobody_assets.storage.engine import sqlalchemy_url
from mirobody_assets.storage.models import Base

APP_TABLES = {
    "users",
    "provider_connections",
    "raw_records",
    "daily_summary",
    "sync_requests",
    "chat_sessions",
    "chat_messages",
}


def _tables(url: str) -> set[str]:
    engine = create_engine(sqlalchemy_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_upgrade_to_head_and_downgrade_to_base(empty_database_url: str) -> None:
    assert _tables(empty_database_url) == set()
    migrate.upgrade(empty_database_url)
    assert _tables(empty_database_url) >= APP_TABLES
    assert migrate.current_revision(empty_database_url) is not None
    migrate.downgrade(empty_database_url, "base")
    assert _tables(empty_database_url) == {"alembic_version"}
    assert migrate.current_revision(empty_database_url) is None
    # and up again: the downgrade left nothing behind that blocks a second upgrade
    migrate.upgrade(empty_database_url)
    assert _tables(empty_database_url) >= APP_TABLES


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_the_fact_table_is_not_in_postgres(database_url: str) -> None:
    assert "indicator_values" not in _tables(database_url)  # Parquet files (migration 0010)


def test_oura_heart_rate_samples_are_folded_into_day_documents(empty_database_url: str) -> None:
    from datetime import date

    from sqlalchemy import text

    from providers.raw import make_record

    samples = [  # as the per-sample provider stored them, in no particular order
        {"bpm": 61, "source": "sleep", "timestamp": "2025-01-02T00:05:00+00:00"},
        {"bpm": 58, "source": "rest", "timestamp": "2025-01-01T23:55:00+00:00"},
        {"bpm": 60, "source": "sleep", "timestamp": "2025-01-02T00:00:00+00:00"},
    ]
    stale = {"bpm": 99, "source": "awake", "timestamp": "2025-01-02T00:00:00+00:00"}
    migrate.upgrade(empty_database_url, "0004")
    engine = create_engine(sqlalchemy_url(empty_database_url))
    try:
        with engine.begin() as conn:
            user = conn.execute(
                text("INSERT INTO users (email) VALUES ('hr@example.org') RETURNING id")
            ).scalar_one()
            for at, doc in ((1, stale), *((2, s) for s in samples)):
                record = make_record(
                    "oura",
                    str(user),
                    "heartrate",
                    doc["timestamp"],
                    None,
                    date.fromisoformat(doc["timestamp"][:10]),
                    doc,
                )
                conn.execute(
                    text(
                        "INSERT INTO raw_records (user_id, provider, record_type, vendor_id, "
                        "content_hash, day, payload, fetched_at) VALUES (:u, 'oura', 'heartrate', "
                        ":v, :h, :d, CAST(:p AS jsonb), now() - make_interval(hours => :age))"
                    ),
                    {
                        "u": user,
                        "v": record.vendor_id,
                        "h": record.content_hash,
                        "d": record.day,
                        "p": record.payload,
                        "age": 3 - at,
                    },
                )
        migrate.upgrade(empty_database_url)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT vendor_id, day, content_hash, payload FROM raw_records "
                    "WHERE provider = 'oura' ORDER BY day"
                )
            ).all()
        # exactly the documents the day-grouping provider writes, so its next pull adds nothing
        expected = [
            make_record(
                "oura",
                str(user),
                "heartrate",
                f"heartrate:{day}",
                None,
                date.fromisoformat(day),
                {"day": day, "data": data},
            )
            for day, data in (
                ("2025-01-01", [samples[1]]),
                ("2025-01-02", [samples[2], samples[0]]),
            )
        ]
        assert [(r.vendor_id, r.day, r.content_hash, r.payload) for r in rows] == [
            (e.vendor_id, e.day, e.content_hash, json.loads(e.payload)) for e in expected
        ]
        migrate.downgrade(empty_database_url, "0004")
        with engine.connect() as conn:
            back = conn.execute(
                text("SELECT vendor_id, payload FROM raw_records ORDER BY vendor_id")
            ).all()
        assert [(r.vendor_id, r.payload) for r in back] == sorted(
            ((s["timestamp"], s) for s in samples), key=lambda pair: pair[0]
        )
    finally:
        engine.dispose()
