"""What a new avatar session needs before a token is minted (seed 000): credit and a LiveAvatar key.

Refusing here, rather than inside the room, spares the visitor a room that can only say "no avatar"
and the organization a room it pays for. The agent still checks again (a key may be deleted later).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from control_api.errors import ApiError
from control_api.services.credits import require_avatar_credit
from db import credentials
from db.tenancy import tenant_connection


async def require_avatar_ready(pool: asyncpg.Pool, org_id: UUID) -> None:
    """402 ``insufficient_credits`` without credit; 409 ``missing_liveavatar_key`` without the
    organization's own LiveAvatar key (seed 000: never a platform key for the avatar)."""
    await require_avatar_credit(pool, org_id)
    async with tenant_connection(pool, org_id) as conn:
        key = await credentials.get_credential_info(conn, org_id, "liveavatar")
    if key is None:
        raise ApiError(
            409,
            "missing_liveavatar_key",
            "the organization has no LiveAvatar key (PUT /credentials/liveavatar); no avatar session can start",
        )
