"""Engines and sessions for the application database (SQLAlchemy 2.0 + psycopg 3)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def sqlalchemy_url(url: str, driver: str = "psycopg") -> str:
    """Give a libpq-style URL (postgresql://...) the SQLAlchemy driver name."""
    parsed = make_url(url)
    return parsed.set(drivername=f"postgresql+{driver}").render_as_string(hide_password=False)


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """An engine for the app database; `pool_pre_ping` survives a restarted server."""
    return create_engine(sqlalchemy_url(database_url), pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
