"""`/streams`: the streamers an organization monitors for clip bursts (seed 004)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from control_api.deps import AppSettings, OrgAdmin, OrgMember, Pool
from control_api.errors import ApiError
from core.clips.presets import MonitoringError, resolve
from db import clips as repo
from db.tenancy import tenant_connection

router = APIRouter(prefix="/streams", tags=["clips"])


class StreamBody(BaseModel):
    twitch_user_id: str = Field(pattern=r"^[0-9]{1,20}$", description="Twitch's numeric user id.")
    display_name: str = Field(min_length=1, max_length=200)
    avatar_url: str | None = Field(None, pattern=r"^https?://", max_length=2000)
    preset: str | None = Field(None, description="sensitive, balanced or conservative (default balanced).")
    monitor_interval_seconds: int | None = None
    monitor_min_clips: int | None = None
    api_mode: Literal["shared", "client"] | None = Field(
        None, description="shared: the organization's Twitch app; client: twitch_client_id/secret below."
    )
    trial_expires_at: datetime | None = None
    twitch_client_id: str | None = Field(None, min_length=1, max_length=200)
    twitch_client_secret: str | None = Field(None, min_length=1, max_length=500)


def invalid(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid_request", f"{field}: {message}", details=[{"field": field, "problem": message}])


@router.get("")
async def list_streams(user: OrgMember, pool: Pool) -> dict[str, Any]:
    async with tenant_connection(pool, user.org_id) as conn:
        rows = await repo.list_streamers(conn, user.org_id)
    return {"items": [repo.streamer_json(r) for r in rows]}


@router.post("", status_code=201)
async def create_stream(body: StreamBody, admin: OrgAdmin, pool: Pool, settings: AppSettings) -> dict[str, Any]:
    org = admin.org_id
    assert org is not None
    try:
        resolved = resolve(
            preset=body.preset, interval_seconds=body.monitor_interval_seconds, min_clips=body.monitor_min_clips
        )
    except MonitoringError as exc:
        raise invalid(exc.field, str(exc).split(": ", 1)[1]) from None
    if (body.twitch_client_id is None) != (body.twitch_client_secret is None):
        raise invalid("twitch_client_secret", "twitch_client_id and twitch_client_secret go together")
    mode = body.api_mode or ("client" if body.twitch_client_id else "shared")
    if mode == "client" and body.twitch_client_id is None:
        raise invalid("api_mode", "client mode needs twitch_client_id and twitch_client_secret")
    trial = body.trial_expires_at
    if trial is not None and trial.tzinfo is None:
        raise invalid("trial_expires_at", "needs a UTC offset (e.g. 2026-01-31T23:59:59Z)")
    data = repo.StreamerInput(
        twitch_user_id=body.twitch_user_id,
        display_name=body.display_name,
        avatar_url=body.avatar_url,
        monitor_preset=resolved.preset,
        monitor_interval_seconds=resolved.monitoring.interval_seconds,
        monitor_min_clips=resolved.monitoring.min_clips,
        api_mode=mode,
        trial_expires_at=trial,
        twitch_client_id=body.twitch_client_id,
        twitch_client_secret=body.twitch_client_secret,
    )
    async with tenant_connection(pool, org) as conn:
        active = await repo.streamer_active_for_update(conn, org, body.twitch_user_id)
        if active:
            raise ApiError(409, "conflict", f"streamer {body.twitch_user_id} is already monitored")
        row, _ = await repo.upsert_streamer(conn, org, data, settings)
    return repo.streamer_json(row)


@router.delete("/{stream_id}", status_code=204)
async def delete_stream(stream_id: UUID, admin: OrgAdmin, pool: Pool) -> Response:
    async with tenant_connection(pool, admin.org_id) as conn:
        deleted = await repo.delete_streamer(conn, admin.org_id, stream_id)
    if not deleted:
        raise ApiError(404, "not_found", f"no stream {stream_id}")
    return Response(status_code=204)
