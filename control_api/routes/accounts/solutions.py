"""`/solutions/{name}`: which agent profile each of an organization's solutions runs (seed 003's
"solution"), and optionally the language its rooms speak. `/token` refuses solutions that are not
configured here. Each answer carries `speechToText`: whether the organization's providers can hear
the solution's effective language (its own, else the organization's, else the platform's)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from control_api.deps import AppSettings, OrgAdmin, OrgMember, Pool
from control_api.errors import ApiError
from control_api.services.speech import effective_language, stt_status
from core.language import TAG_PATTERN, normalize
from core.settings import Settings
from db import language as languages
from db import solutions as repo
from db.pool import Conn
from db.tenancy import tenant_connection

router = APIRouter(prefix="/solutions", tags=["solutions"])
SolutionName = Path(pattern=r"^[A-Za-z0-9_.]{1,64}$")


class SolutionBody(BaseModel):
    profile: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    language: str | None = Field(
        None,
        max_length=10,
        pattern=TAG_PATTERN,
        description="The language the solution's rooms speak (`pt-BR`, `en`); null inherits the organization's; "
        "omitted keeps the stored one.",
    )


async def _with_speech(
    conn: Conn, settings: Settings, org_id: UUID, items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each solution plus `speechToText` for its effective language."""
    org_language = await languages.org_language(conn, org_id)
    for item in items:
        effective = effective_language(settings, item.get("language"), org_language)
        item["speechToText"] = stt_status(settings, org_id, effective)
    return items


@router.get("")
async def list_solutions(user: OrgMember, pool: Pool, settings: AppSettings) -> dict[str, Any]:
    async with tenant_connection(pool, user.org_id) as conn:
        items = await repo.list_solutions(conn, user.org_id)
        return {"items": await _with_speech(conn, settings, user.org_id, items)}


@router.put("/{name}")
async def put_solution(
    body: SolutionBody, admin: OrgAdmin, pool: Pool, settings: AppSettings, name: str = SolutionName
) -> dict[str, Any]:
    async with tenant_connection(pool, admin.org_id) as conn:
        saved = await repo.put_solution(conn, admin.org_id, name, body.profile)
        if "language" in body.model_fields_set:
            language = normalize(body.language) if body.language else None
            await languages.set_solution_language(conn, admin.org_id, name, language)
            saved["language"] = language
        [item] = await _with_speech(conn, settings, admin.org_id, [saved])
    return item


@router.get("/{name}")
async def get_solution(user: OrgMember, pool: Pool, settings: AppSettings, name: str = SolutionName) -> dict[str, Any]:
    async with tenant_connection(pool, user.org_id) as conn:
        found = await repo.get_solution(conn, user.org_id, name)
        if found is None:
            raise ApiError(404, "not_found", f"no solution {name!r}")
        [item] = await _with_speech(conn, settings, user.org_id, [found])
    return item


@router.delete("/{name}")
async def delete_solution(admin: OrgAdmin, pool: Pool, name: str = SolutionName) -> dict[str, str]:
    async with tenant_connection(pool, admin.org_id) as conn:
        if not await repo.delete_solution(conn, admin.org_id, name):
            raise ApiError(404, "not_found", f"no solution {name!r}")
    return {"status": "deleted"}
