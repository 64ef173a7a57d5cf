"""Meeting sessions read back: who was in a room, with which tracks, for how long.

Tenant-scoped: a member of an organization sees its sessions (rooms its `/token` calls minted); another
organization's session answers 404. The platform admin (secret or admin user) sees sessions of rooms
no organization minted, or one organization's with ``?orgId=``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from control_api.deps import Pool, SessionScope
from control_api.errors import ApiError
from control_api.schemas.formats import MAX_OFFSET, CursorQuery, NoNul
from control_api.schemas.sessions import MeetingId, Session, SessionDetail, SessionList
from db import sessions as repo
from db.tenancy import tenant_connection

router = APIRouter(prefix="/sessions", tags=["sessions"])


@router.get("")
async def list_sessions(
    pool: Pool,
    scope: SessionScope,
    status: Annotated[Literal["ACTIVE", "ENDED"] | None, Query()] = None,
    room: Annotated[str | None, Query(max_length=256), NoNul] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    cursor: CursorQuery = None,
) -> SessionList:
    """Newest first. Page with `cursor` (each answer's `nextCursor`); `offset` still works for old clients."""
    async with tenant_connection(pool, scope) as conn:
        page = await repo.list_sessions(
            conn, status=status, room=room, limit=limit, offset=offset, cursor=cursor, org_id=scope
        )
    return SessionList(
        items=[Session.from_row(r) for r in page.rows], limit=limit, offset=offset, nextCursor=page.next_cursor
    )


@router.get("/{meeting_id}")
async def get_session(meeting_id: MeetingId, pool: Pool, scope: SessionScope) -> SessionDetail:
    async with tenant_connection(pool, scope) as conn:
        rows = await repo.get_session(conn, meeting_id, org_id=scope)
    if rows is None:
        raise ApiError(404, "not_found", f"no session with meetingId {meeting_id!r}")
    return SessionDetail.from_rows(rows)
