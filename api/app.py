"""The FastAPI application factory. Nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api.routers import health
from api.state import AppState
from mirobody_assets.settings import Settings, get_settings
from mirobody_assets.storage.engine import make_engine, make_session_factory
from mirobody_assets.storage.redis_client import make_redis


def create_app(settings: Settings) -> FastAPI:
    """Build the API for these settings; the database and Redis connect in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url or not settings.redis_url:
            raise RuntimeError("the API needs DATABASE_URL and REDIS_URL (mirobody up sets them)")
        engine = make_engine(settings.database_url, pool_size=10, max_overflow=10)
        redis = make_redis(settings.redis_url, settings.redis_prefix)
        app.state.mirobody = AppState(settings, engine, make_session_factory(engine), redis)
        try:
            yield
        finally:
            redis.client.close()
            engine.dispose()

    app = FastAPI(
        title="Mirobody",
        version="0.1.0",
        description="Personal health data from every wearable, normalised: REST, MCP and chat.",
        lifespan=lifespan,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            allow_credentials=True,
        )
    app.include_router(health.router)
    return app


def create_app_from_env() -> FastAPI:
    """uvicorn's factory (`uvicorn api.app:create_app_from_env --factory`)."""
    return create_app(get_settings())
