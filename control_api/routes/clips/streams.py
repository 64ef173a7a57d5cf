"""`/streams`: the streamers an organization monitors for clip bursts (seed 004)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Response

from control_api.deps import AppSettings, OrgAdmin, OrgMember, Pool
from control_api.errors import ApiError
from control_api.schemas.clips import Stream, StreamBody, StreamList
from control_api.schemas.common import errors
from control_api.schemas.formats import CursorQuery, PageLimit
from core.clips.presets import MonitoringError, resolve
from db import clips as repo
from db.query import ALL
from db.tenancy import tenant_connection

router = APIRouter(prefix="/streams", tags=["clips"])


def invalid(field: str, message: str) -> ApiError:
    return ApiError(400, "invalid_request", f"{field}: {message}", details=[{"field": field, "problem": message}])


@router.get("")
async def list_streams(
    user: OrgMember,
    pool: Pool,
    limit: PageLimit = None,
    cursor: CursorQuery = None,
) -> StreamList:
    async with tenant_connection(pool, user.org_id) as conn:
        page = await repo.page_streamers(conn, user.org_id, limit=limit or ALL, cursor=cursor)
    return StreamList(items=[Stream.from_row(r) for r in page.rows], nextCursor=page.next_cursor)


@router.post("", status_code=201, responses=errors(409))
async def create_stream(body: StreamBody, admin: OrgAdmin, pool: Pool, settings: AppSettings) -> Stream:
    org = admin.org_id
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
    return Stream.from_row(row)


StreamId = Annotated[
    UUID,
    Path(
        description="The stream's `id` (not its Twitch user id).",
        openapi_examples={"stream": {"summary": "A stream", "value": "6f1d8a52-3b7e-4d0c-9a11-52c4e0b7f9a3"}},
    ),
]


@router.delete("/{stream_id}", status_code=204)
async def delete_stream(stream_id: StreamId, admin: OrgAdmin, pool: Pool) -> Response:
    async with tenant_connection(pool, admin.org_id) as conn:
        deleted = await repo.delete_streamer(conn, admin.org_id, stream_id)
    if not deleted:
        raise ApiError(404, "not_found", f"no stream {stream_id}")
    return Response(status_code=204)
