"""`GET /credits` (seed 000): the organization's balance, its usage by period and by session.

Credits are granted by the platform (`POST /credits/grants`); avatar sessions consume them when they
end (db/credits.py). The token service asks :func:`require_avatar_credit` before minting a token for an
avatar solution: with no credit left it answers 402.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from control_api.deps import OrgMember, PlatformAdmin, Pool
from control_api.errors import ApiError
from db import credits as repo
from db.tenancy import tenant_connection

router = APIRouter(tags=["credits"])


@router.get("/credits")
async def get_credits(
    user: OrgMember,
    pool: Pool,
    period: Literal["day", "month"] = "day",
    days: int = Query(30, ge=1, le=366),
    limit: int = Query(100, ge=1, le=1000),
    timezone: str = Query("UTC", max_length=64),
) -> dict[str, Any]:
    since = datetime.now(UTC) - timedelta(days=days)
    async with tenant_connection(pool, user.org_id) as conn:
        if not await repo.timezone_exists(conn, timezone):
            raise ApiError(400, "invalid_request", "timezone: unknown time zone")
        bal = await repo.balance(conn, user.org_id)
        by_period = await repo.usage_by_period(conn, user.org_id, since, period, timezone)
        sessions = await repo.usage_by_session(conn, user.org_id, since, limit)
        entries = await repo.ledger(conn, user.org_id, limit)
    return {
        "balance": str(bal),
        "since": since.isoformat(),
        "usageByPeriod": {"period": period, "items": by_period},
        "usageBySession": sessions,
        "ledger": entries,
    }


class GrantBody(BaseModel):
    orgId: UUID
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=4)
    note: str | None = Field(None, max_length=500)


@router.post("/credits/grants", status_code=201)
async def grant(body: GrantBody, _: PlatformAdmin, pool: Pool) -> dict[str, Any]:
    """Platform admin: add credit to an organization (purchases, trials)."""
    try:
        async with tenant_connection(pool, body.orgId) as conn:
            row = await repo.add_entry(conn, body.orgId, "grant", body.amount, body.note)
            bal = await repo.balance(conn, body.orgId)
    except asyncpg.ForeignKeyViolationError:
        raise ApiError(404, "not_found", "no such organization") from None
    return {"id": row["id"], "amount": str(row["amount"]), "balance": str(bal)}
