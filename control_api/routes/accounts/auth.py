"""`/auth/*` (seed 002): register an organization and its owner, log in, rotate, log out, who am I.

Refresh tokens rotate on every use; presenting one that was already rotated revokes its whole family
(every token descended from the same login), because only a thief or a replay would do that.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from control_api.deps import AppSettings, CurrentUser, Pool
from control_api.errors import ApiError
from control_api.schemas.auth import (
    LoggedOut,
    LoginBody,
    Me,
    OrgRef,
    RefreshBody,
    RegisterBody,
    Registered,
    TokenPair,
    UserRef,
)
from control_api.schemas.common import errors
from control_api.services import auth_tokens
from db import accounts
from db.tenancy import tenant_connection

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/register", status_code=201, responses=errors(409, 429))
async def register(body: RegisterBody, request: Request, pool: Pool, settings: AppSettings) -> Registered:
    tokens, user_id, org_id = await auth_tokens.register(
        request,
        pool,
        settings,
        email=body.email,
        password=body.password,
        name=body.name,
        organization_name=body.organizationName,
    )
    return Registered(
        **tokens.model_dump(),
        user=UserRef(id=user_id, email=body.email, name=body.name),
        organization=OrgRef(id=org_id, name=body.organizationName),
        role="owner",
    )


@router.post("/login", responses=errors(401, 403, 429))
async def login(body: LoginBody, request: Request, pool: Pool, settings: AppSettings) -> TokenPair:
    return await auth_tokens.log_in(
        request, pool, settings, email=body.email, password=body.password, organization_id=body.organizationId
    )


@router.post("/refresh", responses=errors(401))
async def refresh(body: RefreshBody, pool: Pool, settings: AppSettings) -> TokenPair:
    return await auth_tokens.rotate(pool, settings, body.refreshToken)


@router.post("/logout", responses=errors(401))
async def logout(body: RefreshBody, pool: Pool, settings: AppSettings) -> LoggedOut:
    await auth_tokens.log_out(pool, settings, body.refreshToken)
    return LoggedOut(status="logged_out")


@router.get("/me")
async def me(user: CurrentUser, pool: Pool) -> Me:
    async with tenant_connection(pool, user.org_id) as conn:
        row = await accounts.get_user(conn, user.user_id)
        org = await accounts.get_org(conn, user.org_id) if user.org_id else None
    if row is None:
        raise ApiError(401, "unauthorized", "this account no longer exists")
    return Me.from_rows(row, user.role, org)
