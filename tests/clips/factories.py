"""Organizations and streamers for the clips tests, written through the same code paths as the app."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

import asyncpg

from core.settings import Settings
from db.clips import StreamerInput, upsert_streamer
from db.tenancy import tenant_connection
from tests.clips.conftest import STUB_CLIENT_ID, STUB_CLIENT_SECRET


def member_id(org_id: UUID, role: str) -> UUID:
    """The user :func:`make_org` made with ``role`` in ``org_id`` (roles are read from memberships)."""
    return uuid5(org_id, role)


async def make_org(pool: asyncpg.Pool, name: str = "Org") -> UUID:
    """An organization with an admin and a member (see :func:`member_id`)."""
    org_id: UUID = await pool.fetchval("INSERT INTO organizations (name) VALUES ($1) RETURNING id", name)
    for role in ("admin", "member"):
        user = member_id(org_id, role)
        await pool.execute(
            "INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'not-a-login')", user, f"{user}@clips.test"
        )
        await pool.execute("INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)", org_id, user, role)
    return org_id


async def make_streamer(
    pool: asyncpg.Pool,
    org_id: UUID,
    settings: Settings,
    *,
    twitch_user_id: str = "100",
    interval: int = 60,
    min_clips: int = 3,
    trial_expires_at: datetime | None = None,
    own_app: bool = True,
) -> UUID:
    data = StreamerInput(
        twitch_user_id=twitch_user_id,
        display_name=f"streamer {twitch_user_id}",
        avatar_url=None,
        monitor_preset=None,
        monitor_interval_seconds=interval,
        monitor_min_clips=min_clips,
        api_mode="client" if own_app else "shared",
        trial_expires_at=trial_expires_at,
        twitch_client_id=STUB_CLIENT_ID if own_app else None,
        twitch_client_secret=STUB_CLIENT_SECRET if own_app else None,
    )
    async with tenant_connection(pool, org_id) as conn:
        row, _ = await upsert_streamer(conn, org_id, data, settings)
    streamer_id: UUID = row["id"]
    return streamer_id
