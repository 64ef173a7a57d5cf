"""A user's token pair: a stateless access JWT and a refresh token naming its `refresh_tokens` row."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from control_api.schemas.auth import TokenPair
from core.security.tokens import issue_access, issue_refresh
from core.settings import Settings
from db import accounts
from db.pool import Conn


async def issue_pair(
    conn: Conn,
    settings: Settings,
    *,
    user_id: uuid.UUID,
    org_id: uuid.UUID | None,
    role: str | None,
    platform_admin: bool,
    family_id: uuid.UUID | None = None,
) -> TokenPair:
    token_id = uuid.uuid4()
    family = family_id or uuid.uuid4()
    expires = datetime.now(UTC) + timedelta(seconds=settings.jwt.refresh_ttl)
    await accounts.store_refresh(conn, token_id, family, user_id, org_id, expires)
    return TokenPair(
        accessToken=issue_access(settings, user_id=user_id, org_id=org_id, role=role, platform_admin=platform_admin),
        refreshToken=issue_refresh(
            settings, token_id=token_id, family_id=family, user_id=user_id, expires_at=int(expires.timestamp())
        ),
        tokenType="Bearer",
        expiresIn=settings.jwt.access_ttl,
    )
