"""`/organization`: the caller's organization, its seed 003 client id, and who acted for it.

The client id (`clientId` of seed 003's token clients, e.g. ``"123"``) is unique platform-wide; an org
admin sets or changes it, or the platform admin with ``?orgId=``. Every request the platform admin makes
for an organization (``?orgId=`` on any organization route) is listed in `GET /organization/audit`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from control_api.deps import OrgAdmin, OrgMember, Pool
from control_api.errors import ApiError
from control_api.schemas.common import errors
from control_api.schemas.formats import CursorQuery
from control_api.schemas.organization import AdminActionList, ClientIdBody, Organization
from control_api.services.rooms import forget_client_id
from db import accounts
from db.tenancy import tenant_connection

router = APIRouter(prefix="/organization", tags=["organization"])


@router.get("")
async def get_organization(user: OrgMember, pool: Pool) -> Organization:
    async with tenant_connection(pool, user.org_id) as conn:
        row = await accounts.get_org(conn, user.org_id)
    if row is None:
        raise ApiError(404, "not_found", "no such organization")
    return Organization.from_row(row)


@router.put("/client-id", responses=errors(409))
async def put_client_id(body: ClientIdBody, admin: OrgAdmin, pool: Pool, request: Request) -> Organization:
    """Set (or with null, remove) the organization's client id; 409 when another organization has it."""
    async with tenant_connection(pool, admin.org_id) as conn:
        row = await accounts.set_client_id(conn, admin.org_id, body.clientId)
    if row is None:
        raise ApiError(409, "client_id_taken", "another organization already has this client id")
    forget_client_id(request.app.state, admin.org_id)
    return Organization.from_row(row)


@router.get("/audit")
async def audit(
    admin: OrgAdmin, pool: Pool, limit: Annotated[int, Query(ge=1, le=500)] = 100, cursor: CursorQuery = None
) -> AdminActionList:
    """What the platform admin did for this organization, newest first."""
    async with tenant_connection(pool, admin.org_id) as conn:
        page = await accounts.admin_actions(conn, admin.org_id, limit, cursor)
    return AdminActionList.from_rows(page.rows, page.next_cursor)
