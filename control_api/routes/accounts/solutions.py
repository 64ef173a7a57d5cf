"""`/solutions/{name}`: which agent profile each of an organization's solutions runs (seed 003's
"solution"). `/token` refuses solutions that are not configured here."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from control_api.deps import OrgAdmin, OrgMember, Pool
from control_api.errors import ApiError
from db import solutions as repo
from db.tenancy import tenant_connection

router = APIRouter(prefix="/solutions", tags=["solutions"])
SolutionName = Path(pattern=r"^[A-Za-z0-9_.]{1,64}$")


class SolutionBody(BaseModel):
    profile: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


@router.get("")
async def list_solutions(user: OrgMember, pool: Pool) -> dict[str, Any]:
    async with tenant_connection(pool, user.org_id) as conn:
        return {"items": await repo.list_solutions(conn, user.org_id)}


@router.put("/{name}")
async def put_solution(body: SolutionBody, admin: OrgAdmin, pool: Pool, name: str = SolutionName) -> dict[str, Any]:
    async with tenant_connection(pool, admin.org_id) as conn:
        return await repo.put_solution(conn, admin.org_id, name, body.profile)


@router.get("/{name}")
async def get_solution(user: OrgMember, pool: Pool, name: str = SolutionName) -> dict[str, Any]:
    async with tenant_connection(pool, user.org_id) as conn:
        found = await repo.get_solution(conn, user.org_id, name)
    if found is None:
        raise ApiError(404, "not_found", f"no solution {name!r}")
    return found


@router.delete("/{name}")
async def delete_solution(admin: OrgAdmin, pool: Pool, name: str = SolutionName) -> dict[str, str]:
    async with tenant_connection(pool, admin.org_id) as conn:
        if not await repo.delete_solution(conn, admin.org_id, name):
            raise ApiError(404, "not_found", f"no solution {name!r}")
    return {"status": "deleted"}
