"""Liveness, readiness, and the job scheduler's health (`/health/worker`).

`/health/worker`: alive means some scheduler process heartbeat is younger than
``ESCUTA_SCHEDULER_DEAD_AFTER_SECONDS``; otherwise the answer is 503, whatever the jobs' last results
were. The route is public like the other health checks, so a failed run's error shows only its kind;
the platform admin sees the message too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from control_api.deps import AppSettings, Pool, require_platform_admin
from control_api.errors import ApiError
from db import scheduler as scheduler_repo
from db.migrate import pending

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process answers. Says nothing about the database."""
    return {"status": "ok"}


@router.get("/health/ready", response_model=None)
async def ready(pool: Pool) -> dict[str, Any] | JSONResponse:
    """Readiness: the database answers and every migration this build knows is applied."""
    try:
        async with pool.acquire() as conn:
            missing = await pending(conn)
    except Exception as exc:  # any driver or network failure means "not ready"
        body: dict[str, Any] = {"status": "unavailable", "database": "unreachable", "reason": type(exc).__name__}
        return JSONResponse(body, status_code=503)
    if missing:
        body = {
            "status": "unavailable",
            "database": "ok",
            "pending_migrations": [f"{m.version:04d}_{m.name}" for m in missing],
        }
        return JSONResponse(body, status_code=503)
    return {"status": "ready", "database": "ok", "pending_migrations": []}


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


async def _is_platform_admin(request: Request, settings: AppSettings) -> bool:
    try:
        await require_platform_admin(request, settings)
    except ApiError:
        return False
    return True


@router.get("/health/worker", response_model=None)
async def worker_health(request: Request, pool: Pool, settings: AppSettings) -> dict[str, Any] | JSONResponse:
    dead_after = settings.scheduler.dead_after_seconds
    async with pool.acquire() as conn:
        now, instances, lease, jobs = await scheduler_repo.status(conn)
    live = [i for i in instances if i["stopped_at"] is None and (now - i["heartbeat_at"]).total_seconds() <= dead_after]
    last_beat = instances[0]["heartbeat_at"] if instances else None
    leader = lease["holder"] if lease and lease["expires_at"] > now else None
    detailed = request.headers.get("authorization") is not None and await _is_platform_admin(request, settings)

    def error(text: str | None) -> str | None:
        # Stored as "ExceptionType: message"; the message may carry internals meant for operators only.
        return text if text is None or detailed else text.split(":", 1)[0]

    body: dict[str, Any] = {
        "status": "ok" if live else "unhealthy",
        "scheduler": {
            "alive": bool(live),
            "last_heartbeat_at": _iso(last_beat),
            "heartbeat_age_seconds": round((now - last_beat).total_seconds(), 3) if last_beat else None,
            "dead_after_seconds": dead_after,
            "leader": leader,
            "term": lease["term"] if lease else None,
            "instances": [
                {"id": i["id"], "heartbeat_at": _iso(i["heartbeat_at"]), "alive": i in live} for i in instances
            ],
        },
        "jobs": [
            {
                "name": j["name"],
                "interval_seconds": j["interval_seconds"],
                "next_run_at": _iso(j["next_run_at"]),
                "last_started_at": _iso(j["last_started_at"]),
                "last_finished_at": _iso(j["last_finished_at"]),
                "last_status": j["last_status"],
                "last_error": error(j["last_error"]),
                "last_result": j["last_result"],
                "runs": j["runs"],
                "failures": j["failures"],
            }
            for j in jobs
        ],
    }
    if not live:
        return JSONResponse(body, status_code=503)
    return body
