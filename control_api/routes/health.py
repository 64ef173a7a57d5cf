"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from control_api.deps import Pool
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
