"""`/monitoring`: burst-detection presets, and the effective settings for a preset plus overrides."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from control_api.deps import OrgMember, Pool
from control_api.errors import ApiError
from control_api.schemas.clips import MonitoringResolveBody, PresetList, ResolvedSettings
from control_api.schemas.common import errors
from core.clips.presets import Monitoring, MonitoringError, resolve
from db import clips as repo
from db.tenancy import tenant_connection

router = APIRouter(prefix="/monitoring", tags=["clips"])


@router.get("/presets")
async def presets(user: OrgMember) -> PresetList:
    return PresetList.all()


@router.post("/resolve", responses=errors(404))
async def resolve_settings(body: MonitoringResolveBody, user: OrgMember, pool: Pool) -> ResolvedSettings:
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
    return ResolvedSettings.of(resolved)
