"""Organizations, users, memberships and refresh-token families (seed 002's auth model).

``users`` and ``refresh_tokens`` are identity tables, not tenant data: a person may belong to several
organizations and is looked up by e-mail before any organization is known. Everything else here is
tenant-owned and read inside :func:`db.tenancy.tenant_connection`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

import asyncpg

from db.pool import Conn
from db.query import ALL, Keyset, Page, SortKey, Where, fetch_page

Role = Literal["owner", "admin", "member"]


async def create_org(
    conn: Conn,
    org_id: UUID,
    name: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    client_id: str | None = None,
    language: str | None = None,
) -> bool:
    """False when ``client_id`` is taken by another organization (nothing is created then)."""
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO organizations (id, name, email, phone, client_id, language) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                org_id,
                name,
                email,
                phone,
                client_id,
                language,
            )
    except asyncpg.UniqueViolationError:
        return False
    return True


async def set_client_id(conn: Conn, org_id: UUID, client_id: str | None) -> asyncpg.Record | None:
    """The updated organization, or None when another organization has that client id (seed 003's id)."""
    try:
        async with conn.transaction():
            row: asyncpg.Record | None = await conn.fetchrow(
                "UPDATE organizations SET client_id = $2 WHERE id = $1 RETURNING *", org_id, client_id
            )
    except asyncpg.UniqueViolationError:
        return None
    return row


async def record_admin_action(conn: Conn, org_id: UUID, actor: str, method: str, path: str) -> None:
    """The platform admin acted for ``org_id`` (its audit trail)."""
    await conn.execute(
        "INSERT INTO platform_admin_actions (org_id, actor, method, path) VALUES ($1, $2, $3, $4)",
        org_id,
        actor,
        method,
        path,
    )


AUDIT = Keyset("audit", (SortKey("created_at", "timestamptz", True), SortKey("id", "bigint", True)))


async def admin_actions(conn: Conn, org_id: UUID, limit: int, cursor: str | None = None) -> Page:
    """What the platform admin did for the organization, newest first, after ``cursor``."""
    where = Where().org("org_id", org_id)
    select = "SELECT * FROM platform_admin_actions"
    return await fetch_page(conn, AUDIT, select=select, where=where, limit=limit, cursor=cursor)


async def get_org(conn: Conn, org_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM organizations WHERE id = $1", org_id)


async def create_user(
    conn: Conn,
    email: str,
    password_hash: str,
    *,
    name: str | None = None,
    platform_admin: bool = False,
) -> UUID | None:
    """The new user's id, or None if the e-mail is taken."""
    user_id: UUID | None = await conn.fetchval(
        """
        INSERT INTO users (email, password_hash, name, is_platform_admin) VALUES ($1, $2, $3, $4)
        ON CONFLICT ((lower(email))) DO NOTHING RETURNING id
        """,
        email,
        password_hash,
        name,
        platform_admin,
    )
    return user_id


async def find_user_by_email(conn: Conn, email: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM users WHERE lower(email) = lower($1)", email)


async def get_user(conn: Conn, user_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM users WHERE id = $1", user_id)


async def add_membership(conn: Conn, org_id: UUID, user_id: UUID, role: Role) -> bool:
    status = await conn.execute(
        "INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        org_id,
        user_id,
        role,
    )
    return status == "INSERT 0 1"


async def user_orgs(conn: Conn, user_id: UUID) -> list[tuple[UUID, str]]:
    """Every (organization, role) of a user, oldest first: a cross-tenant read, for login only."""
    rows = await conn.fetch("SELECT org_id, role FROM escuta_user_orgs($1)", user_id)
    return [(r["org_id"], r["role"]) for r in rows]


MEMBERS = Keyset("members", (SortKey("m.created_at", "timestamptz"), SortKey("u.email", "text")))


async def list_members(conn: Conn, org_id: UUID, *, limit: int = ALL, cursor: str | None = None) -> Page:
    """``id, email, name, role, created_at`` (of the membership) per member, oldest first."""
    select = "SELECT u.id, u.email, u.name, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id"
    where = Where().org("m.org_id", org_id)
    return await fetch_page(conn, MEMBERS, select=select, where=where, limit=limit, cursor=cursor)


# --- refresh tokens ------------------------------------------------------------------------------------


async def store_refresh(
    conn: Conn,
    token_id: UUID,
    family_id: UUID,
    user_id: UUID,
    org_id: UUID | None,
    expires_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO refresh_tokens (id, family_id, user_id, org_id, expires_at) VALUES ($1, $2, $3, $4, $5)",
        token_id,
        family_id,
        user_id,
        org_id,
        expires_at,
    )


@dataclass(frozen=True)
class RotateResult:
    outcome: Literal["ok", "unknown", "revoked", "expired", "reused"]
    org_id: UUID | None = None


async def rotate_refresh(conn: Conn, token_id: UUID) -> RotateResult:
    """Mark a refresh token used. A token used twice revokes its family (standard reuse detection).

    Must run in a transaction: the row lock makes two concurrent uses of one token serialize, so the
    second one is seen as a reuse.
    """
    row = await conn.fetchrow("SELECT * FROM refresh_tokens WHERE id = $1 FOR UPDATE", token_id)
    if row is None:
        return RotateResult("unknown")
    if row["revoked_at"] is not None:
        return RotateResult("revoked")
    if row["rotated_at"] is not None:
        await revoke_family(conn, row["family_id"])
        return RotateResult("reused")
    if row["expires_at"] <= datetime.now(UTC):
        return RotateResult("expired")
    await conn.execute("UPDATE refresh_tokens SET rotated_at = now() WHERE id = $1", token_id)
    return RotateResult("ok", row["org_id"])


async def revoke_family(conn: Conn, family_id: UUID) -> None:
    await conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL", family_id
    )


async def revoke_refresh(conn: Conn, token_id: UUID) -> bool:
    status = await conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", token_id
    )
    return status == "UPDATE 1"


async def member_role(conn: Conn, org_id: UUID, user_id: UUID) -> str | None:
    role: str | None = await conn.fetchval(
        "SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2", org_id, user_id
    )
    return role


async def set_role(conn: Conn, org_id: UUID, user_id: UUID, role: Role) -> bool:
    """Change a member's role (never an owner's); False when no such non-owner member."""
    status = await conn.execute(
        "UPDATE memberships SET role = $3 WHERE org_id = $1 AND user_id = $2 AND role <> 'owner'",
        org_id,
        user_id,
        role,
    )
    return status == "UPDATE 1"


async def remove_membership(conn: Conn, org_id: UUID, user_id: UUID) -> None:
    await conn.execute("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2", org_id, user_id)


async def org_exists(conn: Conn, org_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM organizations WHERE id = $1)", org_id))


async def make_platform_admin(conn: Conn, email: str) -> None:
    await conn.execute("UPDATE users SET is_platform_admin = true WHERE lower(email) = lower($1)", email)
