"""Meeting sessions read back: who was in a room, with which tracks, for how long.

Tenant-scoped: a member of an organization sees its sessions (rooms its `/token` calls minted); another
organization's session answers 404. The platform admin (secret or admin user) sees sessions of rooms
no organization minted, or one organization's with ``?orgId=``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from control_api.deps import Pool, SessionScope
from control_api.errors import ApiError
from db import sessions as repo
from db.tenancy import tenant_connection

router = APIRouter(prefix="/sessions", tags=["sessions"])


@router.get("")
async def list_sessions(
    pool: Pool,
    scope: SessionScope,
    status: Annotated[Literal["ACTIVE", "ENDED"] | None, Query()] = None,
    room: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    async with tenant_connection(pool, scope) as conn:
        items = await repo.list_sessions(conn, status=status, room=room, limit=limit, offset=offset, org_id=scope)
    return {"items": items, "limit": limit, "offset": offset}


@router.get("/{meeting_id}")
async def get_session(meeting_id: str, pool: Pool, scope: SessionScope) -> dict[str, Any]:
    async with tenant_connection(pool, scope) as conn:
        session = await repo.get_session(conn, meeting_id, org_id=scope)
    if session is None:
        raise ApiError(404, "not_found", f"no session with meetingId {meeting_id!r}")
    return session
