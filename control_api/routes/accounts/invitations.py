"""`/invitations`: pending invitations of an organization, and accepting one (issue 14).

Owners and admins list and revoke their organization's pending invitations (made by `POST /members`);
another organization's invitation is a 404. `POST /invitations/accept` is for the invitee.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import APIRouter, Request

from control_api.abuse import client_address, rate_limited, shared_limiter
from control_api.deps import AppSettings, OrgAdmin, Pool, bearer_token
from control_api.errors import ApiError
from control_api.principals import user_from_token
from control_api.schemas.auth import OrgRef
from control_api.schemas.common import errors
from control_api.schemas.invitations import AcceptBody, Accepted, Invitation, InvitationList, InvitationRevoked
from control_api.services import invitations as service
from control_api.services.user_tokens import issue_pair
from core.security.ratelimit import RateLimited
from db import accounts, invitations
from db.tenancy import tenant_connection

router = APIRouter(prefix="/invitations", tags=["members"])
log = logging.getLogger("escuta.api.invitations")


@router.get("")
async def list_invitations(admin: OrgAdmin, pool: Pool) -> InvitationList:
    """Pending invitations (not accepted, revoked or expired), newest first. Tokens are never shown again."""
    async with tenant_connection(pool, admin.org_id) as conn:
        rows = await invitations.list_open(conn, admin.org_id)
    return InvitationList(items=[Invitation.from_row(r) for r in rows])


@router.delete("/{invitation_id}", responses=errors(404))
async def revoke_invitation(invitation_id: uuid.UUID, admin: OrgAdmin, pool: Pool) -> InvitationRevoked:
    async with tenant_connection(pool, admin.org_id) as conn:
        if not await invitations.revoke(conn, admin.org_id, invitation_id):
            raise ApiError(404, "not_found", "no such pending invitation")
    return InvitationRevoked(status="revoked")


@router.post("/accept", responses=errors(401, 403, 409, 429))
async def accept_invitation(body: AcceptBody, request: Request, pool: Pool, settings: AppSettings) -> Accepted:
    """Join the organization: the token plus `Authorization: Bearer <access token>` of the invited account,
    or plus a password (a new account's, or the existing account's own)."""
    bearer = bearer_token(request)
    signed_in = user_from_token(settings, bearer).user_id if bearer else None
    rl, source = shared_limiter(request), client_address(request)
    try:
        await rl.hit(settings.rate_limit.login, "login:source", source)
    except RateLimited as exc:
        raise rate_limited(exc) from None
    async with tenant_connection(pool, None) as conn:
        invitation_id, org_id, email, role = await service.resolve(conn, body.token)
    failure = None
    if signed_in is None:
        try:  # an existing account's password is tried here: login's per-account budget applies
            failure = await rl.reserve(settings.rate_limit.login_failures, "login:fail", email.lower(), source)
        except RateLimited as exc:
            raise rate_limited(exc) from None
    try:
        # One transaction: a new account exists only if the membership is made too.
        async with tenant_connection(pool, org_id) as conn:
            user_id, platform_admin = await service.prove_account(
                conn, email, signed_in_user=signed_in, password=body.password, name=body.name
            )
            if not await invitations.mark_accepted(conn, org_id, invitation_id, user_id):
                raise service.invalid_invitation()  # accepted or revoked meanwhile
            await invitations.set_member_role(conn, org_id, user_id, role)
            granted = await accounts.member_role(conn, org_id, user_id)
            org = await accounts.get_org(conn, org_id)
            assert granted is not None and org is not None
            tokens = await issue_pair(
                conn, settings, user_id=user_id, org_id=org_id, role=granted, platform_admin=platform_admin
            )
    except ApiError as exc:
        if failure is not None and exc.status != 401:  # only a wrong password spends the budget
            await rl.refund(failure)
        raise
    if failure is not None:
        await rl.refund(failure)
    log.info("invitation %s accepted: org=%s user=%s role=%s", invitation_id, org_id, user_id, granted)
    return Accepted(**tokens.model_dump(), organization=OrgRef.from_row(org), role=granted)  # type: ignore[arg-type]
