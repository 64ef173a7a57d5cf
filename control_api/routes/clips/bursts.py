"""`/clips/bursts/recent`: the organization's bursts still going in the last N minutes (seed 004)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from control_api.deps import OrgMember, Pool
from control_api.schemas.clips import Burst, RecentBursts
from db.bursts import recent_bursts
from db.tenancy import tenant_connection

router = APIRouter(prefix="/clips", tags=["clips"])


@router.get("/bursts/recent")
async def bursts_recent(
    user: OrgMember,
    pool: Pool,
    since_minutes: Annotated[
        int,
        Query(
            ge=1,
            le=10_080,
            description="Bursts whose last clip is this recent.",
            openapi_examples={"seed": {"summary": "The last hour (seed 004's example)", "value": 60}},
        ),
    ] = 60,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> RecentBursts:
    async with tenant_connection(pool, user.org_id) as conn:
        rows = await recent_bursts(conn, user.org_id, since_minutes, limit=limit)
    return RecentBursts(since_minutes=since_minutes, items=[Burst.from_row(r) for r in rows])
