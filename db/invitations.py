"""Invitations to an organization (issue 14): pending until the invitee proves control of the account.

Only the SHA-256 of the one-time token is stored. An invitation is *open* until accepted, revoked or
expired; inviting the same e-mail again replaces the open one (a resend with a fresh token).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from db.accounts import Role
from db.pool import Conn


async def create_invitation(
    conn: Conn,
    org_id: UUID,
    *,
    email: str,
    role: Role,
    token_hash: bytes,
    invited_by: str,
    ttl: int,
) -> asyncpg.Record:
    """The new invitation; an open one for the same e-mail in this organization is revoked first."""
    await conn.execute(
        "UPDATE invitations SET revoked_at = now() "
        "WHERE org_id = $1 AND lower(email) = lower($2) AND accepted_at IS NULL AND revoked_at IS NULL",
        org_id,
        email,
    )
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        INSERT INTO invitations (org_id, email, role, token_hash, invited_by, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6) RETURNING *
        """,
        org_id,
        email,
        role,
        token_hash,
        invited_by,
        datetime.now(UTC) + timedelta(seconds=ttl),
    )
    assert row is not None  # INSERT ... RETURNING always returns the row
    return row


async def list_open(conn: Conn, org_id: UUID) -> list[asyncpg.Record]:
    """Pending invitations (not accepted, not revoked, not expired), newest first."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT * FROM invitations
        WHERE org_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
        ORDER BY created_at DESC
        """,
        org_id,
    )
    return rows


async def revoke(conn: Conn, org_id: UUID, invitation_id: UUID) -> bool:
    status = await conn.execute(
        "UPDATE invitations SET revoked_at = now() "
        "WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
        org_id,
        invitation_id,
    )
    return status == "UPDATE 1"


async def lookup(conn: Conn, token_hash: bytes) -> asyncpg.Record | None:
    """``id, org_id, email, role, expires_at, open`` of the invitation with this token: pre-auth, cross-tenant."""
    return await conn.fetchrow("SELECT * FROM escuta_invitation_lookup($1)", token_hash)


async def mark_accepted(conn: Conn, org_id: UUID, invitation_id: UUID, user_id: UUID) -> bool:
    """False when it was accepted or revoked meanwhile (the row lock makes a second acceptance lose)."""
    status = await conn.execute(
        """
        UPDATE invitations SET accepted_at = now(), accepted_by = $3
        WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
        """,
        org_id,
        invitation_id,
        user_id,
    )
    return status == "UPDATE 1"


async def set_member_role(conn: Conn, org_id: UUID, user_id: UUID, role: Role) -> None:
    """Join ``org_id`` with ``role``, or take ``role`` if already a member (never lowers an owner)."""
    await conn.execute(
        """
        INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)
        ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role WHERE memberships.role <> 'owner'
        """,
        org_id,
        user_id,
        role,
    )
