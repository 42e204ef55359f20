"""Run the Alembic migrations programmatically (the run command and tests use this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from mirobody_assets.storage.engine import sqlalchemy_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str, data_dir: Path | None = None) -> Config:
    cfg = Config()
    if data_dir is not None:  # where 0010 moves the fact table's rows (default: DATA_DIR)
        cfg.attributes["data_dir"] = data_dir
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # '%' must be doubled for configparser interpolation (URL-encoded socket paths).
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head", data_dir: Path | None = None) -> None:
    command.upgrade(alembic_config(database_url, data_dir), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def current_revision(database_url: str) -> str | None:
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
