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
from control_api.routes import (
    auth,
    avatar,  # issue 10: the avatar (seed 000), with credits below
    cadastro,
    clips,
    compat,
    credentials,
    credits,
    devices,
    health,
    livekit_webhook,
    members,
    metrics,
    monitoring,
    scheduler,
    sessions,
    solutions,
    streams,
    token,
    transcripts,
)
from control_api.routes import catalog as counter_catalog  # issue 7: the counter assistant
from control_api.routes import export as counter_export
from control_api.routes import feedback as coach_feedback  # issue 9: the meeting coach
from db.pool import create_pool
from escuta.settings import ConfigError, Settings

log = logging.getLogger("escuta.api")


def create_app(settings: Settings | None = None, *, pool: asyncpg.Pool | None = None) -> FastAPI:
    """Build the app. With ``pool`` given (tests), the app uses it and never closes it."""
    s = settings or Settings()
    s.check_production()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.pool is not None:
            yield
            return
        if not s.database_url:
            raise ConfigError("ESCUTA_DATABASE_URL is not set (use `escuta run` for an embedded database)")
        app.state.pool = await create_pool(s.database_url, s)
        try:
            yield
        finally:
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
    install_error_handlers(app)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)

    # Browsers call /token and the account routes; the allowed origins are a regex from settings.
    app.add_middleware(
        CORSMiddleware,
        allow_origin_regex=s.cors_origin_regex,
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["authorization", "content-type", "x-api-key"],
        max_age=600,
    )

    # /token first: it is the hottest route, and routes are matched in order.
    for router in (token.router, health.router, metrics.router, livekit_webhook.router, sessions.router):
        app.include_router(router)
    for router in (auth.router, cadastro.router, credentials.router, devices.router, members.router, solutions.router):
        app.include_router(router)
    for router in (scheduler.router, clips.router, monitoring.router, streams.router):
        app.include_router(router)
    app.include_router(transcripts.router)
    app.include_router(counter_catalog.router)
    app.include_router(counter_export.router)
    app.include_router(coach_feedback.router)
    app.include_router(avatar.router)
    app.include_router(compat.router)  # seed 000: GET /new, POST /stt
    app.include_router(credits.router)
    return app
