"""The spoken language of organizations and solutions (migration 0070): NULL inherits the level above."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from db.pool import Conn


@dataclass(frozen=True)
class Languages:
    organization: str | None
    solution: str | None

    @property
    def effective(self) -> str | None:
        """The room's language before the platform default: the solution's, else the organization's."""
        return self.solution or self.organization


async def org_language(conn: Conn, org_id: UUID) -> str | None:
    language: str | None = await conn.fetchval("SELECT language FROM organizations WHERE id = $1", org_id)
    return language


async def set_org_language(conn: Conn, org_id: UUID, language: str | None) -> bool:
    status = await conn.execute("UPDATE organizations SET language = $2 WHERE id = $1", org_id, language)
    return status == "UPDATE 1"


async def set_solution_language(conn: Conn, org_id: UUID, name: str, language: str | None) -> bool:
    status = await conn.execute(
        "UPDATE solutions SET language = $3, updated_at = now() WHERE org_id = $1 AND name = $2",
        org_id,
        name,
        language,
    )
    return status == "UPDATE 1"


async def room_languages(conn: Conn, org_id: UUID, solution: str | None) -> Languages:
    """The organization's and (when named and configured) the solution's language, in one round trip."""
    row = await conn.fetchrow(
        """
        SELECT o.language AS org, s.language AS sol FROM organizations o
        LEFT JOIN solutions s ON s.org_id = o.id AND s.name = $2
        WHERE o.id = $1
        """,
        org_id,
        solution,
    )
    if row is None:
        return Languages(None, None)
    return Languages(row["org"], row["sol"])
