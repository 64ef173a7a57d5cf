"""`/monitoring`: burst-detection presets, and the effective settings for a preset plus overrides."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from control_api.deps import OrgMember, Pool
from control_api.errors import ApiError
from core.clips.presets import Monitoring, MonitoringError, presets_json, resolve
from db import clips as repo
from db.tenancy import tenant_connection

router = APIRouter(prefix="/monitoring", tags=["clips"])


class ResolveBody(BaseModel):
    preset: str | None = Field(None, description="sensitive, balanced or conservative.")
    monitor_interval_seconds: int | None = None
    monitor_min_clips: int | None = None
    streamer_id: str | None = Field(None, description="Start from this stream's stored settings.")


@router.get("/presets")
async def presets(user: OrgMember) -> dict[str, Any]:
    return {"items": presets_json()}


@router.post("/resolve")
async def resolve_settings(body: ResolveBody, user: OrgMember, pool: Pool) -> dict[str, Any]:
    current: Monitoring | None = None
    current_preset: str | None = None
    if body.streamer_id is not None:
        try:
            sid = UUID(body.streamer_id)
        except ValueError:
            raise ApiError(400, "invalid_request", "streamer_id: not a UUID") from None
        async with tenant_connection(pool, user.org_id) as conn:
            row = await repo.get_streamer(conn, user.org_id, sid)
        if row is None:
            raise ApiError(404, "not_found", f"no stream {sid}")
        current = Monitoring(row["monitor_interval_seconds"], row["monitor_min_clips"])
        current_preset = row["monitor_preset"]
    try:
        resolved = resolve(
            preset=body.preset,
            interval_seconds=body.monitor_interval_seconds,
            min_clips=body.monitor_min_clips,
            current=current,
            current_preset=current_preset,
        )
    except MonitoringError as exc:
        problem = str(exc).split(": ", 1)[1]
        raise ApiError(400, "invalid_request", str(exc), details=[{"field": exc.field, "problem": problem}]) from None
    return resolved.as_json()
