"""`/members`: the people of an organization and their roles (owner, admin, member).

Owners and admins invite people and remove them; nobody becomes or removes an owner through the API.
Another organization's member is a 404. Adding is an invitation (issue 14): `POST /members` makes a
pending invitation and answers its one-time token; the person joins only by accepting it
(`POST /invitations/accept`) with proof they control the account. The answer is the same whether or
not the e-mail has an account, so it reveals nothing about who uses Escuta.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from control_api.abuse import rate_limited, shared_limiter
from control_api.deps import AppSettings, OrgAdmin, OrgMember, Pool
from control_api.errors import ApiError
from control_api.principals import PLATFORM_ACTOR_USER
from control_api.schemas.accounts import Member, MemberBody, MemberList, MemberRemoved, RoleBody
from control_api.schemas.common import errors
from control_api.schemas.formats import CursorQuery, PageLimit
from control_api.schemas.invitations import InvitationCreated
from control_api.services.invitations import deliver, invite
from core.security.ratelimit import RateLimited
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


@router.post("", status_code=201, responses=errors(429))
async def add_member(
    body: MemberBody, admin: OrgAdmin, request: Request, pool: Pool, settings: AppSettings
) -> InvitationCreated:
    """Invite someone: a pending invitation whose token is in this answer only (and e-mailed when SMTP is
    configured). A `password` in the body is ignored: the invitee chooses their own when accepting."""
    try:
        await shared_limiter(request).hit(settings.rate_limit.invitations, "invite:org", str(admin.org_id))
    except RateLimited as exc:
        raise rate_limited(exc) from None
    invited_by = "platform-admin" if admin.user_id == PLATFORM_ACTOR_USER else f"user:{admin.user_id}"
    async with tenant_connection(pool, admin.org_id) as conn:
        invitation = await invite(conn, settings, admin.org_id, body.email, body.role, invited_by)
        org = await accounts.get_org(conn, admin.org_id)
    sent = await deliver(settings, invitation, org["name"] if org else "")
    return invitation.answer(sent=sent)


@router.put("/{user_id}", responses=errors(403, 404))
async def change_role(user_id: uuid.UUID, body: RoleBody, admin: OrgAdmin, pool: Pool) -> Member:
    """Make a member an admin or an admin a member; it applies to their very next request."""
    async with tenant_connection(pool, admin.org_id) as conn:
        role = await accounts.member_role(conn, admin.org_id, user_id)
        if role is None:
            raise ApiError(404, "not_found", "no such member")
        if role == "owner":
            raise ApiError(403, "forbidden", "the owner's role cannot be changed")
        await accounts.set_role(conn, admin.org_id, user_id, body.role)
        row = next(r for r in (await accounts.list_members(conn, admin.org_id)).rows if r["id"] == user_id)
    return Member.from_row(row)


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
