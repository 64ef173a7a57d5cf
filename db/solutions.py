"""Solutions per organization (which agent profile each runs) and the registry of minted rooms."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from db.pool import Conn


async def put_solution(conn: Conn, org_id: UUID, name: str, profile: str) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO solutions (org_id, name, profile) VALUES ($1, $2, $3)
        ON CONFLICT (org_id, name) DO UPDATE SET profile = EXCLUDED.profile, updated_at = now()
        RETURNING *
        """,
        org_id,
        name,
        profile,
    )
    assert row is not None
    return row


async def get_solution(conn: Conn, org_id: UUID, name: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM solutions WHERE org_id = $1 AND name = $2", org_id, name)


async def list_solutions(conn: Conn, org_id: UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch("SELECT * FROM solutions WHERE org_id = $1 ORDER BY name", org_id)
    return rows


async def delete_solution(conn: Conn, org_id: UUID, name: str) -> bool:
    status = await conn.execute("DELETE FROM solutions WHERE org_id = $1 AND name = $2", org_id, name)
    return status != "DELETE 0"


async def register_room(conn: Conn, org_id: UUID, room: str, solution: str, profile: str) -> bool:
    """Remember which organization a minted room belongs to (webhook ingestion stamps sessions from it).

    False when another organization already owns that room name: seed 003's names may contain hyphens,
    so two organizations can compose the same ``{solution}-{clientId}-{userId}``; the first keeps it.
    (Row-level security makes the upsert of an invisible row an error; the savepoint keeps the caller's
    transaction usable.)
    """
    try:
        async with conn.transaction():
            await conn.execute(
                """
                INSERT INTO rooms (room_name, org_id, solution, profile) VALUES ($1, $2, $3, $4)
                ON CONFLICT (room_name) DO UPDATE
                   SET solution = EXCLUDED.solution, profile = EXCLUDED.profile, last_minted_at = now()
                """,
                room,
                org_id,
                solution,
                profile,
            )
    except asyncpg.InsufficientPrivilegeError:
        return False
    return True


COUNTER_PROFILES = ("counter", "balcao")


async def counter_solution(conn: Conn, org_id: UUID) -> str | None:
    """The organization's counter solution: ``balcao`` if it has one, else the first counter one by name."""
    name: str | None = await conn.fetchval(
        """
        SELECT name FROM solutions WHERE org_id = $1 AND profile = ANY($2::text[])
        ORDER BY name <> 'balcao', name LIMIT 1
        """,
        org_id,
        list(COUNTER_PROFILES),
    )
    return name
