"""`GET /credits` (seed 000): the organization's balance, its usage by period and by session.

Credits are granted by the platform (`POST /credits/grants`); avatar sessions consume them when they
end (db/credits.py). The token service asks :func:`require_avatar_credit` before minting a token for an
avatar solution: with no credit left it answers 402.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
from fastapi import APIRouter, Query

from control_api.deps import OrgMember, PlatformAdmin, Pool
from control_api.errors import ApiError
from control_api.schemas.common import errors
from control_api.schemas.credits import (
    Credits,
    Grant,
    GrantBody,
    LedgerEntry,
    Period,
    PeriodUsage,
    SessionUsage,
    UsageByPeriod,
)
from db import credits as repo
from db.tenancy import tenant_connection

router = APIRouter(tags=["credits"])


@router.get("/credits")
async def get_credits(
    user: OrgMember,
    pool: Pool,
    period: Period = Query("day", description="Group usage by day or by month."),
    days: int = Query(30, ge=1, le=366, description="Usage of the last `days` days."),
    limit: int = Query(100, ge=1, le=1000, description="At most this many sessions and ledger entries."),
    timezone: str = Query(
        "UTC",
        max_length=64,
        description="The IANA time zone whose days and months group the usage.",
        openapi_examples={"brazil": {"summary": "Brasília time", "value": "America/Sao_Paulo"}},
    ),
) -> Credits:
    since = datetime.now(UTC) - timedelta(days=days)
    async with tenant_connection(pool, user.org_id) as conn:
        if not await repo.timezone_exists(conn, timezone):
            raise ApiError(400, "invalid_request", "timezone: unknown time zone")
        bal = await repo.balance(conn, user.org_id)
        by_period = await repo.usage_by_period(conn, user.org_id, since, period, timezone)
        sessions = await repo.usage_by_session(conn, user.org_id, since, limit)
        entries = await repo.ledger(conn, user.org_id, limit)
    return Credits(
        balance=bal,
        since=since,
        usageByPeriod=UsageByPeriod(period=period, items=[PeriodUsage.from_row(r) for r in by_period]),
        usageBySession=[SessionUsage.from_row(r) for r in sessions],
        ledger=[LedgerEntry.from_row(r) for r in entries],
    )


@router.post("/credits/grants", status_code=201, responses=errors(404))
async def grant(body: GrantBody, _: PlatformAdmin, pool: Pool) -> Grant:
    """Platform admin: add credit to an organization (purchases, trials)."""
    try:
        async with tenant_connection(pool, body.orgId) as conn:
            row = await repo.add_entry(conn, body.orgId, "grant", body.amount, body.note)
            bal = await repo.balance(conn, body.orgId)
    except asyncpg.ForeignKeyViolationError:
        raise ApiError(404, "not_found", "no such organization") from None
    return Grant(id=row["id"], amount=row["amount"], balance=bal)
