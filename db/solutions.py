"""Solutions per organization (which agent profile each runs) and the registry of minted rooms."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from db.pool import Conn


def solution_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "name": row["name"],
        "profile": row["profile"],
        "language": row["language"],
        "createdAt": row["created_at"].isoformat(),
        "updatedAt": row["updated_at"].isoformat(),
    }


async def put_solution(conn: Conn, org_id: UUID, name: str, profile: str) -> dict[str, Any]:
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
    return solution_json(row)


async def get_solution(conn: Conn, org_id: UUID, name: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM solutions WHERE org_id = $1 AND name = $2", org_id, name)
    return solution_json(row) if row else None


async def list_solutions(conn: Conn, org_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch("SELECT * FROM solutions WHERE org_id = $1 ORDER BY name", org_id)
    return [solution_json(r) for r in rows]


async def delete_solution(conn: Conn, org_id: UUID, name: str) -> bool:
    status = await conn.execute("DELETE FROM solutions WHERE org_id = $1 AND name = $2", org_id, name)
    return status != "DELETE 0"


async def register_room(conn: Conn, org_id: UUID, room: str, solution: str, profile: str) -> None:
    """Remember which organization a minted room belongs to (webhook ingestion stamps sessions from it)."""
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
