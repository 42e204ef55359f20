"""Alembic migrations against a real, empty PostgreSQL database."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from mirobody_assets.storage import migrate
from mirobody_assets.storage.engine import sqlalchemy_url
from mirobody_assets.storage.models import Base

APP_TABLES = {
    "users", "provider_connections", "raw_records", "indicator_values", "daily_summary",
    "sync_requests", "chat_sessions", "chat_messages",
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


def test_read_path_indexes_exist(database_url: str) -> None:
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        insp = inspect(engine)
        iv = {ix["name"]: ix["column_names"] for ix in insp.get_indexes("indicator_values")}
        pk = insp.get_pk_constraint("indicator_values")["constrained_columns"]
    finally:
        engine.dispose()
    assert iv["ix_indicator_values_user_indicator_time"] == ["user_id", "indicator", "time"]
    assert pk == ["user_id", "indicator", "source", "time"]
