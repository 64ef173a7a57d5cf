"""`/members`: the people of an organization and their roles (owner, admin, member).

Owners and admins add people (an existing account joins; a new e-mail needs a password) and remove
them; nobody becomes or removes an owner through the API. Another organization's member is a 404.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from control_api.deps import OrgAdmin, OrgMember, Pool
from control_api.errors import ApiError
from control_api.schemas.accounts import Member, MemberAdded, MemberBody, MemberList, MemberRemoved
from control_api.schemas.common import errors
from control_api.schemas.formats import CursorQuery, PageLimit
from core.security.passwords import hash_password
from db import accounts
from db.query import ALL
from db.tenancy import tenant_connection

router = APIRouter(prefix="/members", tags=["members"])


@router.get("")
async def list_members(
    user: OrgMember,
    pool: Pool,
    limit: PageLimit = None,
    cursor: CursorQuery = None,
) -> MemberList:
    async with tenant_connection(pool, user.org_id) as conn:
        page = await accounts.list_members(conn, user.org_id, limit=limit or ALL, cursor=cursor)
    return MemberList(items=[Member.from_row(r) for r in page.rows], nextCursor=page.next_cursor)


@router.post("", status_code=201, responses=errors(409))
async def add_member(body: MemberBody, admin: OrgAdmin, pool: Pool) -> MemberAdded:
    async with tenant_connection(pool, admin.org_id) as conn:
        existing = await accounts.find_user_by_email(conn, body.email)
        if existing is not None:
            user_id = existing["id"]
        elif body.password is None:
            raise ApiError(400, "invalid_request", "password: required for a new account")
        else:
            created = await accounts.create_user(conn, body.email, hash_password(body.password), name=body.name)
            if created is None:
                raise ApiError(409, "conflict", "the account was created concurrently; retry")
            user_id = created
        if not await accounts.add_membership(conn, admin.org_id, user_id, body.role):
            raise ApiError(409, "already_member", "this account is already a member")
    return MemberAdded(id=user_id, email=body.email, role=body.role)


@router.delete("/{user_id}")
async def remove_member(user_id: uuid.UUID, admin: OrgAdmin, pool: Pool) -> MemberRemoved:
    async with tenant_connection(pool, admin.org_id) as conn:
        role = await accounts.member_role(conn, admin.org_id, user_id)
        if role is None:
            raise ApiError(404, "not_found", "no such member")
        if role == "owner":
            raise ApiError(403, "forbidden", "the owner cannot be removed")
        await accounts.remove_membership(conn, admin.org_id, user_id)
    return MemberRemoved(status="removed")
