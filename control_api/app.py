"""The control API's app factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from control_api.errors import install_error_handlers
from control_api.metrics import ApiMetrics, MetricsMiddleware
from control_api.openapi import build_openapi
from control_api.routes import ROUTERS
from control_api.routes.coach_socket import build_socketio
from control_api.services.exports import Exporter, shutdown_pools
from core.settings import ConfigError, Settings
from db.pool import create_pool

log = logging.getLogger("escuta.api")


def create_app(settings: Settings | None = None, *, pool: asyncpg.Pool | None = None) -> FastAPI:
    """Build the app. With ``pool`` given (tests), the app uses it and never closes it."""
    s = settings or Settings()
    s.check_production()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = app.state.pool is None
        if owned:
            if not s.db.url:
                raise ConfigError("ESCUTA_DATABASE_URL is not set (use `escuta run` for an embedded database)")
            app.state.pool = await create_pool(s.db.url, s)
        try:
            yield
        finally:
            # Live connections first (Balto bridges leave their rooms; the LISTEN connection closes).
            bridges = getattr(app.state, "device_bridges", None)
            if bridges is not None:
                await bridges.aclose()
            feed = getattr(app.state, "live_events", None)
            if feed is not None:
                await feed.aclose()
            await app.state.exporter.aclose()
            if owned:  # a process of its own (not a test's app sharing the process): its exports end with it
                shutdown_pools()
            if owned:
                await app.state.pool.close()

    app = FastAPI(
        title="Escuta control API",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = s
    app.state.pool = pool
    app.state.metrics = ApiMetrics()
    app.state.exporter = Exporter(s.counter.export_processes)
    install_error_handlers(app)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)

    # Browsers call /token and the account routes; the allowed origins are a regex from settings.
    app.add_middleware(
        CORSMiddleware,
        allow_origin_regex=s.api.cors_origin_regex,
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["authorization", "content-type", "x-api-key"],
        max_age=600,
    )

    for router in ROUTERS:
        app.include_router(router)
    # Seed 002's Socket.IO feedback for hosts, at `/socket.io/` (not in the OpenAPI document).
    app.mount("/socket.io", build_socketio(app.state, s.api.cors_origin_regex))
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    return app
