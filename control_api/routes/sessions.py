"""Meeting sessions read back: who was in a room, with which tracks, for how long.

Tenant-scoped: a member of an organization sees its sessions (rooms its `/token` calls minted); another
organization's session answers 404. The platform admin (secret or admin user) sees sessions of rooms
no organization minted, or one organization's with ``?orgId=``.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from control_api.deps import AppSettings, Pool, bearer_token
from control_api.errors import ApiError
from control_api.principals import user_from_token
from db import sessions as repo
from db.tenancy import tenant_connection

router = APIRouter(prefix="/sessions", tags=["sessions"])


def session_scope(
    request: Request,
    settings: AppSettings,
    org: Annotated[uuid.UUID | None, Query(alias="orgId")] = None,
) -> uuid.UUID | None:
    """The organization whose sessions the caller may read (None: unowned sessions, platform only)."""
    token = bearer_token(request)
    if token is None:
        raise ApiError(401, "unauthorized", "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    if hmac.compare_digest(token.encode(), settings.admin_token.get_secret_value().encode()):
        return org
    user = user_from_token(settings, token)
    if user.platform_admin:
        return org
    if user.org_id is None:
        raise ApiError(403, "forbidden", "this account belongs to no organization")
    return user.org_id


SessionScope = Annotated[uuid.UUID | None, Depends(session_scope)]


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
