"""`/credentials/{provider}`: each organization's own provider keys (seed 000), encrypted at rest.

Nothing here ever returns a secret: reads give the provider, a masked hint and timestamps.
"""

from __future__ import annotations

from fastapi import APIRouter

from control_api.deps import AppSettings, OrgAdmin, OrgMember, Pool
from control_api.errors import ApiError
from control_api.schemas.credentials import Credential, CredentialBody, CredentialDeleted, CredentialList, Provider
from db import credentials as repo
from db.tenancy import tenant_connection

router = APIRouter(prefix="/credentials", tags=["credentials"])


@router.get("")
async def list_credentials(user: OrgMember, pool: Pool) -> CredentialList:
    async with tenant_connection(pool, user.org_id) as conn:
        rows = await repo.list_credentials(conn, user.org_id)
    return CredentialList(items=[Credential.from_row(r) for r in rows])


@router.put("/{provider}")
async def put_credential(
    provider: Provider, body: CredentialBody, admin: OrgAdmin, pool: Pool, settings: AppSettings
) -> Credential:
    async with tenant_connection(pool, admin.org_id) as conn:
        return Credential.from_row(await repo.put_credential(conn, admin.org_id, provider, body.secret, settings))


@router.get("/{provider}")
async def get_credential(provider: Provider, user: OrgMember, pool: Pool) -> Credential:
    async with tenant_connection(pool, user.org_id) as conn:
        info = await repo.get_credential_info(conn, user.org_id, provider)
    if info is None:
        raise ApiError(404, "not_found", f"no {provider} credential stored")
    return Credential.from_row(info)


@router.delete("/{provider}")
async def delete_credential(provider: Provider, admin: OrgAdmin, pool: Pool) -> CredentialDeleted:
    async with tenant_connection(pool, admin.org_id) as conn:
        deleted = await repo.delete_credential(conn, admin.org_id, provider)
    if not deleted:
        raise ApiError(404, "not_found", f"no {provider} credential stored")
    return CredentialDeleted(status="deleted")
