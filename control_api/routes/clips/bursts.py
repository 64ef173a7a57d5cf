"""`/clips/bursts/recent`: the organization's bursts still going in the last N minutes (seed 004)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from control_api.deps import OrgMember, Pool
from db.bursts import recent_bursts
from db.tenancy import tenant_connection

router = APIRouter(prefix="/clips", tags=["clips"])


@router.get("/bursts/recent")
async def bursts_recent(
    user: OrgMember,
    pool: Pool,
    since_minutes: Annotated[int, Query(ge=1, le=10_080, description="Bursts whose last clip is this recent.")] = 60,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    async with tenant_connection(pool, user.org_id) as conn:
        items = await recent_bursts(conn, user.org_id, since_minutes, limit=limit)
    return {"since_minutes": since_minutes, "items": items}
