"""`/solutions/{name}`: which agent profile each of an organization's solutions runs (seed 003's
"solution"). `/token` refuses solutions that are not configured here."""

from __future__ import annotations

from fastapi import APIRouter, Path

from control_api.deps import OrgAdmin, OrgMember, Pool
from control_api.errors import ApiError
from control_api.schemas.solutions import (
    SOLUTION_NAME_PATTERN,
    Solution,
    SolutionBody,
    SolutionDeleted,
    SolutionList,
)
from db import solutions as repo
from db.tenancy import tenant_connection

router = APIRouter(prefix="/solutions", tags=["solutions"])
SolutionName = Path(min_length=1, max_length=64, pattern=SOLUTION_NAME_PATTERN, examples=["AiHelper"])


@router.get("")
async def list_solutions(user: OrgMember, pool: Pool) -> SolutionList:
    async with tenant_connection(pool, user.org_id) as conn:
        rows = await repo.list_solutions(conn, user.org_id)
    return SolutionList(items=[Solution.from_row(r) for r in rows])


@router.put("/{name}")
async def put_solution(body: SolutionBody, admin: OrgAdmin, pool: Pool, name: str = SolutionName) -> Solution:
    async with tenant_connection(pool, admin.org_id) as conn:
        return Solution.from_row(await repo.put_solution(conn, admin.org_id, name, body.profile))


@router.get("/{name}")
async def get_solution(user: OrgMember, pool: Pool, name: str = SolutionName) -> Solution:
    async with tenant_connection(pool, user.org_id) as conn:
        found = await repo.get_solution(conn, user.org_id, name)
    if found is None:
        raise ApiError(404, "not_found", f"no solution {name!r}")
    return Solution.from_row(found)


@router.delete("/{name}")
async def delete_solution(admin: OrgAdmin, pool: Pool, name: str = SolutionName) -> SolutionDeleted:
    async with tenant_connection(pool, admin.org_id) as conn:
        if not await repo.delete_solution(conn, admin.org_id, name):
            raise ApiError(404, "not_found", f"no solution {name!r}")
    return SolutionDeleted(status="deleted")
