"""A session's audio recordings: `GET /sessions/{meetingId}/recordings` and one file's download.

Tenant-scoped like the transcript: another organization's meeting answers 404. The files are read from
`ESCUTA_RECORDINGS_DIR` (control_api/services/recordings.py), so the API must share that disk with the
workers; only the names listed for the meeting are served.
"""

from __future__ import annotations

import asyncio
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path
from fastapi.responses import FileResponse

from control_api.deps import AppSettings, Pool, SessionScope
from control_api.errors import ApiError
from control_api.schemas.common import errors
from control_api.schemas.formats import NoNul
from control_api.schemas.recordings import WAV_RESPONSE, Recording, Recordings
from control_api.schemas.sessions import MeetingId
from control_api.services.recordings import list_recordings, recording_path
from db import sessions as sessions_repo
from db.tenancy import tenant_connection

router = APIRouter(tags=["sessions"])

FileName = Annotated[
    str, Path(min_length=1, max_length=300, examples=["20250314T092653589Z_sala-1_ana_TR_AMkd.wav"]), NoNul
]


async def _room(pool: Pool, scope: SessionScope, meeting_id: str) -> str:
    async with tenant_connection(pool, scope) as conn:
        room = await sessions_repo.session_room(conn, meeting_id, scope)
    if room is None:
        raise ApiError(404, "not_found", f"no session with meetingId {meeting_id!r}")
    return room


@router.get("/sessions/{meeting_id}/recordings", responses=errors(404))
async def get_recordings(meeting_id: MeetingId, pool: Pool, scope: SessionScope, settings: AppSettings) -> Recordings:
    """The meeting's WAV segments, where recordings were on and kept (empty otherwise)."""
    room = await _room(pool, scope, meeting_id)
    files = await asyncio.to_thread(list_recordings, settings.coach.recordings.dir, meeting_id, room)
    base = f"/sessions/{quote(meeting_id, safe='')}/recordings/"
    return Recordings(
        meetingId=meeting_id, items=[Recording.of(meeting_id, f, base + quote(f.name, safe="")) for f in files]
    )


@router.get(
    "/sessions/{meeting_id}/recordings/{file_name}",
    response_class=FileResponse,
    responses={200: WAV_RESPONSE, **errors(404)},
)
async def get_recording(
    meeting_id: MeetingId, file_name: FileName, pool: Pool, scope: SessionScope, settings: AppSettings
) -> FileResponse:
    """One WAV segment of the meeting (a name from the list; anything else is 404)."""
    await _room(pool, scope, meeting_id)
    path = await asyncio.to_thread(recording_path, settings.coach.recordings.dir, meeting_id, file_name)
    if path is None:
        raise ApiError(404, "not_found", f"no recording {file_name!r} in session {meeting_id!r}")
    return FileResponse(path, media_type="audio/wav", filename=file_name)
