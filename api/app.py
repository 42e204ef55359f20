"""The FastAPI application factory. Nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.chat.router import router as chat_router
from api.config import ApiSettings
from api.docs import install_docs
from api.errors import install_error_handlers
from api.logs import configure_logging
from api.mcp import router as mcp_router
from api.mcp.server import install_mcp
from api.metrics import ApiMetrics
from api.middleware import RequestContextMiddleware
from api.ratelimit import RateLimiter
from api.routers import (
    apple_health,
    auth,
    connections,
    daily_summaries,
    data,
    exports,
    fitbit,
    health,
    indicators,
    me,
    metrics,
    profile,
    providers,
    series,
    sync_requests,
    webhooks,
)
from api.security import Passwords, TokenIssuer
from api.state import AppState, signing_key, token_cipher
from api.web import install_web
from mirobody_assets.provider_config import build_registry
from mirobody_assets.settings import Settings, get_settings
from mirobody_assets.storage.engine import engine_from_settings, make_session_factory
from mirobody_assets.storage.facts import bind_facts, fact_store
from mirobody_assets.storage.redis_client import make_redis
from providers.registry import ProviderRegistry

ROUTERS = (
    health,
    metrics,
    auth,
    me,
    indicators,
    series,
    daily_summaries,
    profile,
    sync_requests,
    exports,
    data,
    providers,
    connections,
    fitbit,  # before webhooks: its GET/POST answer the way Fitbit expects
    webhooks,
    apple_health,
    mcp_router,
)


def create_app(
    settings: Settings,
    *,
    api_settings: ApiSettings | None = None,
    registry: ProviderRegistry | None = None,
) -> FastAPI:
    """Build the API for these settings; the database and Redis connect in the lifespan.

    `registry` replaces the providers found through entry points (tests pass the sandbox's).
    """
    api = api_settings or ApiSettings.from_settings(settings)
    app_metrics = ApiMetrics()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url or not settings.redis_url:
            raise RuntimeError("the API needs DATABASE_URL and REDIS_URL (mirobody up sets them)")
        engine = engine_from_settings(settings)
        # The readers of indicator_values (series, export, MCP) find its files through the engine.
        bind_facts(engine, fact_store(settings.data_dir, settings.facts_url))
        redis = make_redis(settings.redis_url, settings.redis_prefix)
        vendors = registry or build_registry(settings)
        app.state.mirobody = AppState(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            redis=redis,
            api=api,
            metrics=app_metrics,
            limiter=RateLimiter(redis, app_metrics),
            passwords=Passwords(api.argon2_time_cost, api.argon2_memory_kib),
            tokens=TokenIssuer(
                signing_key(settings),
                settings.jwt_issuer,
                settings.jwt_audience,
                api.access_token_ttl_s,
            ),
            cipher=token_cipher(settings),
            registry=vendors,
        )
        app_metrics.watch_database(engine)
        try:
            async with mcp_mount.running():
                yield
        finally:
            app_metrics.watch_database(None)
            redis.client.close()
            engine.dispose()

    app = FastAPI(
        title="Mirobody",
        version="0.1.0",
        description="Personal health data from every wearable, normalised: REST, MCP and chat.",
        lifespan=lifespan,
        docs_url=None,  # served from local files by install_docs (FastAPI's use a CDN)
        redoc_url=None,
    )
    mcp_mount = install_mcp(app, lambda: app.state.mirobody)
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "Retry-After"],
            allow_credentials=True,
        )
    app.add_middleware(RequestContextMiddleware, metrics=app_metrics)
    if api.trusted_proxies:
        # Outermost: the client address is settled before anything reads it (limits, logs).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=api.trusted_proxies)
    for module in ROUTERS:
        app.include_router(module.router)
    app.include_router(chat_router)
    install_web(app)
    install_docs(app)
    return app


def create_app_from_env() -> FastAPI:
    """uvicorn's factory (`uvicorn api.app:create_app_from_env --factory`)."""
    return create_app(get_settings())
