"""Credit checks before an avatar session starts (seed 000's usage credits)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from control_api.errors import ApiError
from db import credits as repo
from db.tenancy import tenant_connection


async def require_avatar_credit(pool: asyncpg.Pool, org_id: UUID) -> None:
    """Raise 402 when the organization has no credit left for a new avatar session."""
    async with tenant_connection(pool, org_id) as conn:
        bal = await repo.balance(conn, org_id)
    if bal <= 0:
        raise ApiError(
            402,
            "insufficient_credits",
            "the organization has no credit left for avatar sessions; add credit to continue",
        )
