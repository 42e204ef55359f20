"""What the API holds for its lifetime, built in the lifespan and reached through dependencies."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from mirobody_assets.settings import Settings
from mirobody_assets.storage.redis_client import PrefixedRedis


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: PrefixedRedis


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.mirobody
    return state
