"""`/credentials/{provider}`: each organization's own provider keys (seed 000), encrypted at rest.

Nothing here ever returns a secret: reads give the provider, a masked hint and timestamps.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from control_api.deps import AppSettings, OrgAdmin, OrgMember, Pool
from control_api.errors import ApiError
from db import credentials as repo
from db.tenancy import tenant_connection

router = APIRouter(prefix="/credentials", tags=["credentials"])
Provider = Literal["elevenlabs", "openai", "xai", "assemblyai", "hume", "liveavatar", "twitch"]


class CredentialBody(BaseModel):
    # Twitch needs a client id and secret: store them as one JSON string, e.g. {"client_id":..,"secret":..}.
    secret: str = Field(min_length=1, max_length=8192)


@router.get("")
async def list_credentials(user: OrgMember, pool: Pool) -> dict[str, Any]:
    async with tenant_connection(pool, user.org_id) as conn:
        return {"items": await repo.list_credentials(conn, user.org_id)}


@router.put("/{provider}")
async def put_credential(
    provider: Provider, body: CredentialBody, admin: OrgAdmin, pool: Pool, settings: AppSettings
) -> dict[str, Any]:
    async with tenant_connection(pool, admin.org_id) as conn:
        return await repo.put_credential(conn, admin.org_id, provider, body.secret, settings)


@router.get("/{provider}")
async def get_credential(provider: Provider, user: OrgMember, pool: Pool) -> dict[str, Any]:
    async with tenant_connection(pool, user.org_id) as conn:
        info = await repo.get_credential_info(conn, user.org_id, provider)
    if info is None:
        raise ApiError(404, "not_found", f"no {provider} credential stored")
    return info


@router.delete("/{provider}")
async def delete_credential(provider: Provider, admin: OrgAdmin, pool: Pool) -> dict[str, str]:
    async with tenant_connection(pool, admin.org_id) as conn:
        deleted = await repo.delete_credential(conn, admin.org_id, provider)
    if not deleted:
        raise ApiError(404, "not_found", f"no {provider} credential stored")
    return {"status": "deleted"}
