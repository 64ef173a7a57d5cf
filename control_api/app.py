"""The control API's app factory."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import asyncpg
from fastapi import FastAPI

from control_api.console.session import ConsoleSessionMiddleware
from control_api.cors import LeanCORSMiddleware
from control_api.credential_cache import credential_cache
from control_api.errors import install_error_handlers
from control_api.limits import BodyLimitMiddleware, route_limits
from control_api.metrics import ApiMetrics, MetricsMiddleware
from control_api.openapi import build_openapi
from control_api.routes import ROUTERS, console, livekit_webhook, token
from control_api.routes.coach_socket import build_socketio
from control_api.services.exports import Exporter, shutdown_pools
from core import offload
from core.settings import ConfigError, Settings
from db.pool import create_pool_when_reachable

log = logging.getLogger("escuta.api")


async def _connect(app: FastAPI, dsn: str, settings: Settings) -> None:
    def failed(exc: BaseException, attempt: int) -> None:
        # One line per attempt, never the DSN (it may carry a password).
        log.warning(
            "database unreachable (%s, attempt %d); retrying in %g s",
            type(exc).__name__,
            attempt,
            settings.db.retry_seconds,
        )

    pool = await create_pool_when_reachable(dsn, settings, failed)
    app.state.pool = pool
    log.info("database connected")


def _log_connect_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("giving up connecting to the database: %s", type(task.exception()).__name__)


def create_app(settings: Settings | None = None, *, pool: asyncpg.Pool | None = None) -> FastAPI:
    """Build the app. With ``pool`` given (tests), the app uses it and never closes it."""
    s = settings or Settings()
    s.check_production()
    offload.configure(s.api.cpu_threads)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = app.state.pool is None
        connecting: asyncio.Task[None] | None = None
        if owned:
            if not s.db.url:
                raise ConfigError("ESCUTA_DATABASE_URL is not set (use `escuta run` for an embedded database)")
            # The API serves (not ready: 503) while the database is down, and connects when it comes back.
            connecting = asyncio.create_task(_connect(app, s.db.url, s), name="escuta-db-connect")
            await asyncio.wait({connecting}, timeout=s.db.connect_timeout + 1)
            failure = connecting.exception() if connecting.done() else None
            if failure is not None:
                raise failure  # not "unreachable" but misconfigured (a malformed DSN): exit, as before
            connecting.add_done_callback(_log_connect_failure)
        # Key lookups are cached only while this process hears credential changes (issue 20.4).
        credential_cache(app.state).start()
        if owned:
            # Everything imported and built at start lives as long as the process: move it out of the
            # garbage collector's reach. A full collection otherwise walks these ~200k objects while it
            # holds the GIL (~0.1 s), stalling the event loop whenever a CPU thread allocates a lot.
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if connecting is not None and not connecting.done():
                connecting.cancel()
                with suppress(asyncio.CancelledError):
                    await connecting
            # Live connections first (Balto bridges leave their rooms; the LISTEN connection closes).
            bridges = getattr(app.state, "device_bridges", None)
            if bridges is not None:
                await bridges.aclose()
            await credential_cache(app.state).aclose()
            batcher = getattr(app.state, "webhook_batcher", None)
            if batcher is not None:
                await batcher.aclose()
            feed = getattr(app.state, "live_events", None)
            if feed is not None:
                await feed.aclose()
            await app.state.exporter.aclose()
            if owned:  # a process of its own (not a test's app sharing the process): its exports end with it
                shutdown_pools()
            if owned and app.state.pool is not None:
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
    # Innermost of the middlewares: metrics count its 413s and CORS decorates them like any answer.
    app.add_middleware(BodyLimitMiddleware, default=s.api.max_body_bytes, routes=route_limits(s))
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    # The web console's sign-in cookies become the API's bearer token (CSRF-checked): see console/session.py.
    app.add_middleware(ConsoleSessionMiddleware)

    # Browsers call /token and the account routes; the allowed origins are a regex from settings.
    app.add_middleware(
        LeanCORSMiddleware,
        allow_origin_regex=s.api.cors_origin_regex,
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["authorization", "content-type", "x-api-key"],
        max_age=600,
    )

    # The LiveKit webhook first, as a bare Starlette route: it skips FastAPI's per-request machinery on
    # the busiest write path (issue 20.3); its FastAPI twin in ROUTERS documents it.
    app.router.routes.insert(0, livekit_webhook.fast_route)
    # Likewise `POST /token` and seed 003's `POST /` (issue 20.4): FastAPI matching a path against every
    # route and solving an empty dependency list was a fifth of a token's CPU. Same code as their twins.
    app.router.routes[1:1] = token.fast_routes
    for router in ROUTERS:
        app.include_router(router)
    # The web console (issue 16): pages at /console/..., and `GET /` for browsers asking for HTML.
    app.include_router(console.router)
    app.state.console_page = console.console_page
    # Seed 002's Socket.IO feedback for hosts, at `/socket.io/` (not in the OpenAPI document).
    app.mount(
        "/socket.io",
        build_socketio(app.state, s.api.cors_origin_regex, max_message_bytes=s.api.ws_max_message_bytes),
    )
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    return app
