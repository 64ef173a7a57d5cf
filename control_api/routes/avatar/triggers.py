"""The avatar's media triggers (seed 000, "gatilhos de mídia") and `POST /context/resolve`.

A trigger is a set of phrases; when the conversation says one, the avatar shows its media. The same
normalisation runs here and in the agent (core/avatar/triggers.py), so a phrase stored here matches live.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from control_api.deps import CurrentPrincipal, OrgAdmin, OrgMember, Pool
from control_api.errors import ApiError
from control_api.schemas.avatar import (
    ContextResolution,
    ContextResolveBody,
    MediaEvent,
    Trigger,
    TriggerBody,
    TriggerList,
)
from control_api.schemas.common import errors
from control_api.schemas.formats import CursorQuery, PageLimit
from core.avatar import triggers as matching
from db import avatar as repo
from db.query import ALL
from db.tenancy import tenant_connection

router = APIRouter(tags=["avatar"])


def _trigger_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ApiError(404, "not_found", "no such trigger") from None


@router.get("/avatar/triggers")
async def list_triggers(
    user: OrgMember,
    pool: Pool,
    limit: PageLimit = None,
    cursor: CursorQuery = None,
) -> TriggerList:
    async with tenant_connection(pool, user.org_id) as conn:
        page = await repo.page_triggers(conn, user.org_id, limit=limit or ALL, cursor=cursor)
    return TriggerList(items=[Trigger.from_row(r) for r in page.rows], nextCursor=page.next_cursor)


@router.post("/avatar/triggers", status_code=201, responses=errors(409))
async def create_trigger(body: TriggerBody, admin: OrgAdmin, pool: Pool) -> Trigger:
    async with tenant_connection(pool, admin.org_id) as conn:
        if any(r["name"] == body.name for r in await repo.list_triggers(conn, admin.org_id)):
            raise ApiError(409, "conflict", f"a trigger named {body.name!r} exists")
        return Trigger.from_row(await repo.insert_trigger(conn, admin.org_id, body.values()))


@router.get("/avatar/triggers/{trigger_id}")
async def get_trigger(trigger_id: str, user: OrgMember, pool: Pool) -> Trigger:
    async with tenant_connection(pool, user.org_id) as conn:
        row = await repo.get_trigger(conn, user.org_id, _trigger_id(trigger_id))
    if row is None:
        raise ApiError(404, "not_found", "no such trigger")
    return Trigger.from_row(row)


@router.put("/avatar/triggers/{trigger_id}", responses=errors(409))
async def update_trigger(trigger_id: str, body: TriggerBody, admin: OrgAdmin, pool: Pool) -> Trigger:
    tid = _trigger_id(trigger_id)
    async with tenant_connection(pool, admin.org_id) as conn:
        triggers = await repo.list_triggers(conn, admin.org_id)
        # Another organization's id is "no such trigger" (404) before any question about names (409).
        if not any(r["id"] == tid for r in triggers):
            raise ApiError(404, "not_found", "no such trigger")
        if any(r["name"] == body.name and r["id"] != tid for r in triggers):
            raise ApiError(409, "conflict", f"a trigger named {body.name!r} exists")
        row = await repo.update_trigger(conn, admin.org_id, tid, body.values())
    if row is None:
        raise ApiError(404, "not_found", "no such trigger")
    return Trigger.from_row(row)


@router.delete("/avatar/triggers/{trigger_id}", status_code=204)
async def delete_trigger(trigger_id: str, admin: OrgAdmin, pool: Pool) -> Response:
    async with tenant_connection(pool, admin.org_id) as conn:
        if not await repo.delete_trigger(conn, admin.org_id, _trigger_id(trigger_id)):
            raise ApiError(404, "not_found", "no such trigger")
    return Response(status_code=204)


@router.post("/context/resolve")
async def context_resolve(body: ContextResolveBody, principal: CurrentPrincipal, pool: Pool) -> ContextResolution:
    """Seed 000's route: the media the caller's triggers resolve ``text`` to (no cooldown: a pure lookup)."""
    async with tenant_connection(pool, principal.org_id) as conn:
        rows = await repo.list_triggers(conn, principal.org_id, enabled_only=True)
    found = matching.resolve([matching.Trigger.from_row(r) for r in rows], body.text)
    matches = [MediaEvent.of(m) for m in found]
    return ContextResolution(matched=bool(matches), media=matches[0].media if matches else None, matches=matches)
