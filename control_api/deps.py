"""Dependencies shared by the routers, as `Annotated` aliases (``Pool``, ``AppSettings``, ``PlatformAdmin``)."""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated

import asyncpg
from fastapi import Depends, Query, Request

from control_api.errors import ApiError
from control_api.membership import current_role
from control_api.metrics import ApiMetrics
from control_api.principals import (  # accounts (issue 4): who is calling, re-exported for routers
    AccessTokenAuth,
    AdminTokenAuth,
    AuthUser,
    CurrentPrincipal,
    CurrentUser,
    OrgAdmin,
    OrgMember,
    OrgUser,
    Principal,
    user_from_token,
)
from core.security.tokens import InvalidToken, verify_access
from core.settings import Settings


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool | None = request.app.state.pool
    if pool is None:
        raise ApiError(503, "database_unavailable", "the database is not connected yet")
    return pool


async def get_metrics(request: Request) -> ApiMetrics:
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


AppSettings = Annotated[Settings, Depends(get_settings)]
Pool = Annotated[asyncpg.Pool, Depends(get_pool)]
Metrics = Annotated[ApiMetrics, Depends(get_metrics)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def require_platform_admin(
    request: Request, settings: AppSettings, _admin: AdminTokenAuth = None, _token: AccessTokenAuth = None
) -> None:
    """The platform admin secret (the seeds' ADMIN_SECRET), compared in constant time."""
    token = bearer_token(request)
    if token is None:
        raise ApiError(401, "unauthorized", "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    expected = settings.api.admin_token.get_secret_value()
    if not hmac.compare_digest(token.encode(), expected.encode()):
        # A platform admin user (`escuta admin create-user`) logged in is as good as the secret.
        try:
            if verify_access(settings, token).platform_admin:
                return
        except InvalidToken:
            pass
        raise ApiError(401, "unauthorized", "invalid bearer token", headers={"WWW-Authenticate": "Bearer"})


PlatformAdmin = Annotated[None, Depends(require_platform_admin)]


async def session_scope(
    request: Request,
    settings: AppSettings,
    _admin: AdminTokenAuth,
    _token: AccessTokenAuth,
    org: Annotated[uuid.UUID | None, Query(alias="orgId")] = None,
) -> uuid.UUID | None:
    """The organization whose sessions the caller may read (None: unowned sessions, platform only)."""
    token = bearer_token(request)
    if token is None:
        raise ApiError(401, "unauthorized", "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    if hmac.compare_digest(token.encode(), settings.api.admin_token.get_secret_value().encode()):
        return org
    user = user_from_token(settings, token)
    if user.platform_admin:
        return org
    if user.org_id is None:
        raise ApiError(403, "forbidden", "this account belongs to no organization")
    await current_role(request, user.org_id, user.user_id)  # 403 once removed, whatever the token says
    return user.org_id


SessionScope = Annotated[uuid.UUID | None, Depends(session_scope)]

__all__ = [
    "AppSettings",
    "AuthUser",
    "CurrentPrincipal",
    "CurrentUser",
    "Metrics",
    "OrgAdmin",
    "OrgMember",
    "OrgUser",
    "PlatformAdmin",
    "Pool",
    "Principal",
    "SessionScope",
    "bearer_token",
    "get_metrics",
    "get_pool",
    "get_settings",
    "require_platform_admin",
]
