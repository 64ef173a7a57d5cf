"""`/health/worker`: is the job scheduler alive, who leads, and how each job's last run went.

Alive means some scheduler process heartbeat is younger than ``ESCUTA_SCHEDULER_DEAD_AFTER_SECONDS``;
otherwise the answer is 503, whatever the jobs' last results were. The route is public like the other
health checks, so a failed run's error shows only its kind; the platform admin sees the message too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from control_api.deps import AppSettings, Pool, require_platform_admin
from control_api.errors import ApiError

router = APIRouter(tags=["health"])


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
    dead_after = settings.scheduler_dead_after_seconds
    async with pool.acquire() as conn:
        now: datetime = await conn.fetchval("SELECT now()")
        instances = await conn.fetch(
            "SELECT id, heartbeat_at, stopped_at FROM scheduler_instances "
            "WHERE heartbeat_at > now() - interval '1 day' ORDER BY heartbeat_at DESC"
        )
        lease = await conn.fetchrow("SELECT holder, term, expires_at FROM scheduler_lease WHERE name = 'scheduler'")
        jobs = await conn.fetch("SELECT * FROM scheduler_jobs ORDER BY name")
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
