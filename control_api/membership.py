"""A user's role is read from the database on every request, not trusted from the access token.

Access tokens live 15 minutes; a member removed or demoted by an admin must lose the role at once, so
the token says who the user is and the ``memberships`` row says what they may do (one indexed read).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
from starlette.requests import HTTPConnection

from control_api.errors import ApiError
from db import accounts
from db.tenancy import tenant_connection


async def current_role(request: HTTPConnection, org_id: UUID, user_id: UUID) -> str:
    """The user's role in ``org_id`` now; 403 when they are no longer a member."""
    pool: asyncpg.Pool | None = request.app.state.pool
    if pool is None:
        raise ApiError(503, "database_unavailable", "the database is not connected yet")
    async with tenant_connection(pool, org_id) as conn:
        role = await accounts.member_role(conn, org_id, user_id)
    if role is None:
        raise ApiError(403, "not_a_member", "this account is no longer a member of this organization")
    return role
