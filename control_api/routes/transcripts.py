"""`GET /sessions/{meetingId}/transcript`: what was said in a session, as JSON or WebVTT.

Tenant-scoped like the session itself: another organization's meeting answers 404, as if it did
not exist. WebVTT is chosen with `?format=vtt` or `Accept: text/vtt`; it holds the transcribed
utterances only (failed ones are in the JSON, with their reason).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from control_api.deps import Pool
from control_api.errors import ApiError
from control_api.routes.sessions import SessionScope
from db import transcripts as repo
from db.tenancy import tenant_connection

router = APIRouter(prefix="/sessions", tags=["transcripts"])

VTT_MEDIA_TYPE = "text/vtt"


@router.get("/{meeting_id}/transcript", response_model=None)
async def get_transcript(
    meeting_id: str,
    request: Request,
    pool: Pool,
    scope: SessionScope,
    format: Annotated[Literal["json", "vtt"] | None, Query()] = None,
) -> dict[str, Any] | PlainTextResponse:
    async with tenant_connection(pool, scope) as conn:
        items = await repo.list_transcript(conn, meeting_id, scope)
        known = bool(items) or await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM sessions WHERE meeting_id = $1 AND org_id IS NOT DISTINCT FROM $2)",
            meeting_id,
            scope,
        )
    if not known:
        raise ApiError(404, "not_found", f"no session with meetingId {meeting_id!r}")
    wants_vtt = format == "vtt" or (format is None and VTT_MEDIA_TYPE in request.headers.get("accept", ""))
    if wants_vtt:
        return PlainTextResponse(repo.to_webvtt(items), media_type=VTT_MEDIA_TYPE)
    return {
        "meetingId": meeting_id,
        "items": items,
        "failed": sum(1 for i in items if i["status"] == "failed"),
    }
