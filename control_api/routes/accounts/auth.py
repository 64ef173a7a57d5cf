"""`/auth/*` (seed 002): register an organization and its owner, log in, rotate, log out, who am I.

Refresh tokens rotate on every use; presenting one that was already rotated revokes its whole family
(every token descended from the same login), because only a thief or a replay would do that.

Nothing here tells whether an e-mail has an account (issue 14): sign-up answers alike for every e-mail
(and hashes a password either way), login answers one 401 for a wrong e-mail or password (verifying a
dummy hash for an unknown e-mail). Login is limited per source address (all attempts) and per account
*and* source (wrong passwords), so an attacker elsewhere cannot lock the account's owner out; the
counters are in PostgreSQL, shared by every API process.
"""

from __future__ import annotations

import hashlib
import logging
import uuid

from fastapi import APIRouter, Request

from control_api.abuse import client_address, rate_limited, shared_limiter
from control_api.deps import AppSettings, CurrentUser, Pool
from control_api.errors import ApiError
from control_api.membership import current_role
from control_api.schemas.auth import (
    LoggedOut,
    LoginBody,
    Me,
    RefreshBody,
    RegisterBody,
    RegistrationAccepted,
    TokenPair,
)
from control_api.schemas.common import errors
from control_api.services.user_tokens import issue_pair
from core.security.passwords import hash_password_async, verify_password_async
from core.security.ratelimit import RateLimited
from core.security.tokens import InvalidToken, verify_refresh
from db import accounts
from db.tenancy import tenant_connection

router = APIRouter(prefix="/auth", tags=["auth"])

log = logging.getLogger("escuta.api.auth")


def _who(email: str) -> str:
    # Logs name a login by a digest, not the address itself (personal data stays out of log bodies).
    return hashlib.sha256(email.lower().encode()).hexdigest()[:12]


class _AlreadyRegistered(Exception):
    """Rolls back the new organization when the e-mail turns out to have an account."""


@router.post("/register", status_code=202, responses=errors(429))
async def register(body: RegisterBody, request: Request, pool: Pool, settings: AppSettings) -> RegistrationAccepted:
    """Create an organization and its owner account, then log in. The answer is the same when the e-mail
    already has an account (then nothing is created: join another organization by invitation)."""
    # Argon2 is deliberately expensive: unthrottled sign-ups would be a cheap way to burn our CPU.
    try:
        await shared_limiter(request).hit(settings.rate_limit.login, "register:source", client_address(request))
    except RateLimited as exc:
        raise rate_limited(exc) from None
    org_id = uuid.uuid4()
    password_hash = await hash_password_async(body.password)  # hashed for a taken e-mail too: the same time either way
    try:
        async with tenant_connection(pool, org_id) as conn:
            await accounts.create_org(conn, org_id, body.organizationName)
            user_id = await accounts.create_user(conn, body.email, password_hash, name=body.name)
            if user_id is None:
                raise _AlreadyRegistered
            await accounts.add_membership(conn, org_id, user_id, "owner")
    except _AlreadyRegistered:
        log.info("sign-up for an existing account ignored: who=%s", _who(body.email))
    return RegistrationAccepted(
        status="accepted", email=body.email, organizationName=body.organizationName, next="POST /auth/login"
    )


@router.post("/login", responses=errors(401, 403, 429))
async def login(body: LoginBody, request: Request, pool: Pool, settings: AppSettings) -> TokenPair:
    rl = shared_limiter(request)
    source = client_address(request)
    account = body.email.lower()
    try:
        # Every attempt from an address counts; wrong passwords count per account *and* address, so a
        # guesser elsewhere never locks the owner out, and one address cannot guess fast anywhere.
        await rl.hit(settings.rate_limit.login, "login:source", source)
        failure = await rl.reserve(settings.rate_limit.login_failures, "login:fail", account, source)
    except RateLimited as exc:
        log.warning("login throttled (%s): who=%s source=%s", exc.scope, _who(body.email), source)
        raise rate_limited(exc) from None
    async with tenant_connection(pool, None) as conn:
        user = await accounts.find_user_by_email(conn, body.email)
    # Verified even for an unknown e-mail (against a dummy hash), so timing does not reveal accounts.
    if not await verify_password_async(user["password_hash"] if user else None, body.password) or user is None:
        log.info("login failed: who=%s source=%s", _who(body.email), source)
        raise ApiError(401, "invalid_credentials", "wrong e-mail or password")
    await rl.refund(failure)  # the right password spends nothing
    async with tenant_connection(pool, None) as conn:
        orgs = await accounts.user_orgs(conn, user["id"])
        chosen = [(o, r) for o, r in orgs if body.organizationId in (None, o)]
        if not chosen and (body.organizationId is not None or not user["is_platform_admin"]):
            raise ApiError(403, "no_organization", "this account is not a member of that organization")
        org_id, role = chosen[0] if chosen else (None, None)
        return await issue_pair(
            conn,
            settings,
            user_id=user["id"],
            org_id=org_id,
            role=role,
            platform_admin=user["is_platform_admin"],
        )


@router.post("/refresh", responses=errors(401))
async def refresh(body: RefreshBody, pool: Pool, settings: AppSettings) -> TokenPair:
    try:
        claims = verify_refresh(settings, body.refreshToken)
    except InvalidToken:
        raise ApiError(401, "invalid_token", "invalid or expired refresh token") from None
    async with tenant_connection(pool, None) as conn:
        result = await accounts.rotate_refresh(conn, claims.token_id)
        # Reuse already revoked the family inside this transaction; it must commit, so no raise here.
        if result.outcome == "ok":
            user = await accounts.get_user(conn, claims.user_id)
            orgs = dict(await accounts.user_orgs(conn, claims.user_id))
            role = orgs.get(result.org_id) if result.org_id else None
            if user is not None and (result.org_id is None or role is not None):
                return await issue_pair(
                    conn,
                    settings,
                    user_id=claims.user_id,
                    org_id=result.org_id,
                    role=role,
                    platform_admin=user["is_platform_admin"],
                    family_id=claims.family_id,
                )
    if result.outcome == "reused":
        log.warning("refresh token reuse: family %s revoked", claims.family_id)
        raise ApiError(401, "token_reused", "refresh token was already used; all sessions of this login ended")
    raise ApiError(401, "invalid_token", "invalid, revoked or expired refresh token")


@router.post("/logout", responses=errors(401))
async def logout(body: RefreshBody, pool: Pool, settings: AppSettings) -> LoggedOut:
    try:
        claims = verify_refresh(settings, body.refreshToken)
    except InvalidToken:
        raise ApiError(401, "invalid_token", "invalid or expired refresh token") from None
    async with tenant_connection(pool, None) as conn:
        await accounts.revoke_refresh(conn, claims.token_id)
    return LoggedOut(status="logged_out")


@router.get("/me")
async def me(user: CurrentUser, request: Request, pool: Pool) -> Me:
    role = await current_role(request, user.org_id, user.user_id) if user.org_id else None
    async with tenant_connection(pool, user.org_id) as conn:
        row = await accounts.get_user(conn, user.user_id)
        org = await accounts.get_org(conn, user.org_id) if user.org_id else None
    if row is None:
        raise ApiError(401, "unauthorized", "this account no longer exists")
    return Me.from_rows(row, role, org)
