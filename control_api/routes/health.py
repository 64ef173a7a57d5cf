"""Liveness, readiness, and the job scheduler's health (`/health/worker`).

`/health/worker`: alive means some scheduler process heartbeat is younger than
``ESCUTA_SCHEDULER_DEAD_AFTER_SECONDS``; otherwise the answer is 503, whatever the jobs' last results
were. `agent_workers` adds the `escuta worker` processes' heartbeats (count, load, jobs; labels only for
the platform admin), for information. The route is public like the other health checks, so a failed
run's error shows only its kind; the platform admin sees the message too.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from control_api.deps import AppSettings, Pool, require_platform_admin
from control_api.errors import ApiError
from control_api.schemas.common import ErrorBody
from control_api.schemas.health import (
    AgentWorkersStatus,
    DatabaseUnreachable,
    Liveness,
    Readiness,
    ServiceStatus,
    WorkerHealth,
)
from db import agent_workers as agent_workers_repo
from db import scheduler as scheduler_repo
from db.migrate import pending

router = APIRouter(tags=["health"])


def _unavailable(model: Any, description: str) -> dict[int | str, dict[str, Any]]:
    # A 503 here is the route's own answer, or the API's error body when the database pool is not up yet.
    return {503: {"model": model, "description": description}}


def _json_503(answer: BaseModel) -> JSONResponse:
    return JSONResponse(answer.model_dump(mode="json"), status_code=503)


def wants_html(request: Request) -> bool:
    """A browser navigating here (its Accept lists text/html before any JSON), not an API client."""
    accept = request.headers.get("accept", "")
    html, json_ = accept.find("text/html"), accept.find("application/json")
    return html >= 0 and (json_ < 0 or html < json_)


@router.get("/", response_model=ServiceStatus)
async def root(request: Request) -> ServiceStatus | Response:
    """The service status as JSON (seed 002's `GET /`). A browser asking for HTML gets the web console
    when one is installed (`app.state.console_page`, a later issue's hook); until then, this JSON."""
    console = getattr(request.app.state, "console_page", None)
    if console is not None and wants_html(request):
        page: Response = await console(request)
        return page
    return ServiceStatus(status="ok", service="escuta", version=request.app.version, docs="/docs", health="/health")


@router.get("/health")
async def health() -> Liveness:
    """Liveness: the process answers. Says nothing about the database."""
    return Liveness(status="ok")


async def _pending_migrations(pool: asyncpg.Pool) -> list[str]:
    async with pool.acquire() as conn:
        return [f"{m.version:04d}_{m.name}" for m in await pending(conn)]


@router.get(
    "/health/ready",
    response_model=Readiness,
    responses=_unavailable(Readiness | DatabaseUnreachable | ErrorBody, "Not ready"),
)
async def ready(request: Request, settings: AppSettings) -> Readiness | JSONResponse:
    """Readiness: the database answers within ``ESCUTA_DB_READY_TIMEOUT`` and every migration this build
    knows is applied. A black-holed database answers 503 after that timeout, not after the driver's own."""
    pool: asyncpg.Pool | None = request.app.state.pool
    if pool is None:  # still connecting (the database was down at start)
        return _json_503(DatabaseUnreachable(status="unavailable", database="unreachable", reason="NotConnected"))
    # One probe at a time, never cancelled: a probe that overran is left to finish on its own (the pool's
    # command and connect timeouts bound it) rather than cancelled mid-query, whose clean-up would wait on
    # the same unresponsive server. Probes arriving meanwhile answer 503 at once.
    probe: asyncio.Task[list[str]] | None = getattr(request.app.state, "ready_probe", None)
    if probe is None or probe.done():
        probe = asyncio.create_task(_pending_migrations(pool), name="escuta-ready-probe")
        request.app.state.ready_probe = probe
    done, _ = await asyncio.wait({probe}, timeout=settings.db.ready_timeout)
    if not done:
        return _json_503(DatabaseUnreachable(status="unavailable", database="unreachable", reason="TimeoutError"))
    exc = probe.exception()
    if exc is not None:  # any driver or network failure means "not ready"
        return _json_503(DatabaseUnreachable(status="unavailable", database="unreachable", reason=type(exc).__name__))
    names = probe.result()
    if names:
        return _json_503(Readiness(status="unavailable", database="ok", pending_migrations=names))
    return Readiness(status="ready", database="ok", pending_migrations=[])


async def _is_platform_admin(request: Request, settings: AppSettings) -> bool:
    try:
        await require_platform_admin(request, settings)
    except ApiError:
        return False
    return True


@router.get(
    "/health/worker",
    response_model=WorkerHealth,
    responses=_unavailable(WorkerHealth | ErrorBody, "No scheduler is alive"),
    # Public; the platform admin's credential (optional) adds the jobs' error messages.
    openapi_extra={"security": [{}, {"adminToken": []}, {"accessToken": []}]},
)
async def worker_health(request: Request, pool: Pool, settings: AppSettings) -> WorkerHealth | JSONResponse:
    dead_after = settings.worker.dead_after_seconds
    async with pool.acquire() as conn:
        now, instances, lease, jobs = await scheduler_repo.status(conn)
        _, workers = await agent_workers_repo.live(conn, dead_after)
    detailed = request.headers.get("authorization") is not None and await _is_platform_admin(request, settings)
    answer = WorkerHealth.from_status(
        now,
        instances,
        lease,
        jobs,
        dead_after=settings.scheduler.dead_after_seconds,
        detailed=detailed,
        agents=AgentWorkersStatus.from_rows(workers, dead_after=dead_after, detailed=detailed),
    )
    return answer if answer.scheduler.alive else _json_503(answer)
