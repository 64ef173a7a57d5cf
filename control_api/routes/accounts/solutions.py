"""`/solutions/{name}`: which agent profile each of an organization's solutions runs (seed 003's
"solution"), and optionally the language its rooms speak. `/token` refuses solutions that are not
configured here. Each answer carries `speechToText`: whether the organization's providers can hear
the solution's effective language (its own, else the organization's, else the platform's)."""

from __future__ import annotations

from uuid import UUID

import asyncpg
from fastapi import APIRouter, Path

from control_api.deps import AppSettings, OrgAdmin, OrgMember, Pool
from control_api.errors import ApiError
from control_api.schemas.solutions import (
    SOLUTION_NAME_PATTERN,
    Solution,
    SolutionBody,
    SolutionDeleted,
    SolutionList,
)
from control_api.services.speech import effective_language, stt_status
from core.language import normalize
from core.settings import Settings
from db import language as languages
from db import solutions as repo
from db.pool import Conn
from db.tenancy import tenant_connection

router = APIRouter(prefix="/solutions", tags=["solutions"])
SolutionName = Path(min_length=1, max_length=64, pattern=SOLUTION_NAME_PATTERN, examples=["AiHelper"])


async def _answers(conn: Conn, settings: Settings, org_id: UUID, rows: list[asyncpg.Record]) -> list[Solution]:
    """Each solution with `speechToText` for its effective language."""
    org_language = await languages.org_language(conn, org_id)
    return [
        Solution.from_row(
            row, stt_status(settings, org_id, effective_language(settings, row["language"], org_language))
        )
        for row in rows
    ]


@router.get("")
async def list_solutions(user: OrgMember, pool: Pool, settings: AppSettings) -> SolutionList:
    async with tenant_connection(pool, user.org_id) as conn:
        rows = await repo.list_solutions(conn, user.org_id)
        return SolutionList(items=await _answers(conn, settings, user.org_id, rows))


@router.put("/{name}")
async def put_solution(
    body: SolutionBody, admin: OrgAdmin, pool: Pool, settings: AppSettings, name: str = SolutionName
) -> Solution:
    async with tenant_connection(pool, admin.org_id) as conn:
        saved = await repo.put_solution(conn, admin.org_id, name, body.profile)
        if "language" in body.model_fields_set:
            language = normalize(body.language) if body.language else None
            await languages.set_solution_language(conn, admin.org_id, name, language)
            reread = await repo.get_solution(conn, admin.org_id, name)
            assert reread is not None  # written in this transaction
            saved = reread
        [answer] = await _answers(conn, settings, admin.org_id, [saved])
    return answer


@router.get("/{name}")
async def get_solution(user: OrgMember, pool: Pool, settings: AppSettings, name: str = SolutionName) -> Solution:
    async with tenant_connection(pool, user.org_id) as conn:
        found = await repo.get_solution(conn, user.org_id, name)
        if found is None:
            raise ApiError(404, "not_found", f"no solution {name!r}")
        [answer] = await _answers(conn, settings, user.org_id, [found])
    return answer


@router.delete("/{name}")
async def delete_solution(admin: OrgAdmin, pool: Pool, name: str = SolutionName) -> SolutionDeleted:
    async with tenant_connection(pool, admin.org_id) as conn:
        if not await repo.delete_solution(conn, admin.org_id, name):
            raise ApiError(404, "not_found", f"no solution {name!r}")
    return SolutionDeleted(status="deleted")
