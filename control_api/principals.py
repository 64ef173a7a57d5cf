"""Who is calling: users (access JWT), devices (``bk_`` keys) and browsers (``pk_`` publishable keys).

Re-exported from ``control_api.deps`` as ``CurrentUser``, ``OrgAdmin`` and ``CurrentPrincipal``.
Kept free of imports from ``deps`` so the two modules cannot import each other in a cycle.
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
from fastapi import Depends, Query, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

# Re-exported: older routes import these two from here.
from control_api.abuse import client_address as client_address
from control_api.abuse import rate_limited as rate_limited
from control_api.credential_cache import CACHE_MAX_ENTRIES, CachedKey, credential_cache
from control_api.errors import ApiError
from control_api.membership import current_role
from core.security.keys import key_matches, parse_key
from core.security.ratelimit import RateLimited, RateLimiter
from core.security.tokens import InvalidToken, verify_access
from core.settings import Settings
from db import accounts as accounts_repo
from db import devices as devices_repo
from db.tenancy import tenant_connection

log = logging.getLogger("escuta.api.auth")

ORG_ADMIN_ROLES = frozenset({"owner", "admin"})
# Verified keys are cached per process and dropped at once on any change (control_api/credential_cache.py).
LAST_USED_RESOLUTION = 60.0  # last_used_at is written at most once a minute per key


@dataclass(frozen=True)
class AuthUser:
    user_id: UUID
    org_id: UUID | None
    role: str | None
    platform_admin: bool

    @property
    def is_org_admin(self) -> bool:
        return self.role in ORG_ADMIN_ROLES


@dataclass(frozen=True)
class OrgUser:
    """A signed-in member acting in their organization: unlike `AuthUser`, ``org_id`` is never None."""

    user_id: UUID
    org_id: UUID
    role: str
    platform_admin: bool

    @property
    def is_org_admin(self) -> bool:
        return self.role in ORG_ADMIN_ROLES


# The credentials, declared for the OpenAPI document (`/docs` has an Authorize button, and each operation
# lists what it accepts). They never refuse a request themselves (auto_error=False): the dependencies
# below do, with the API's own error shape.
ACCESS_TOKEN = HTTPBearer(
    scheme_name="accessToken",
    bearerFormat="JWT",
    description="A user's access token from `POST /auth/login` (`Authorization: Bearer <token>`).",
    auto_error=False,
)
API_KEY = APIKeyHeader(
    name="X-API-Key",
    scheme_name="apiKey",
    description="A device key (`bk_...`, from `POST /cadastro/balcao`) or a publishable key (`pk_...`, "
    "from `POST /keys/publishable`, accepted only from its allowed origins).",
    auto_error=False,
)
ADMIN_TOKEN = HTTPBearer(
    scheme_name="adminToken",
    description="The platform admin secret (`ESCUTA_ADMIN_TOKEN`, the seeds' ADMIN_SECRET) as a bearer token.",
    auto_error=False,
)
AccessTokenAuth = Annotated[HTTPAuthorizationCredentials | None, Security(ACCESS_TOKEN)]
ApiKeyAuth = Annotated[str | None, Security(API_KEY)]
AdminTokenAuth = Annotated[HTTPAuthorizationCredentials | None, Security(ADMIN_TOKEN)]


@dataclass(frozen=True)
class Principal:
    """The credential behind a request. ``subject`` keys rate limits (a user id or a key prefix)."""

    kind: Literal["user", "device", "publishable"]
    org_id: UUID
    subject: str
    user: AuthUser | None = None
    device_id: UUID | None = None
    key_id: UUID | None = None


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def limiter(request: HTTPConnection) -> RateLimiter:
    state = request.app.state
    if getattr(state, "rate_limiter", None) is None:
        state.rate_limiter = RateLimiter()
    rl: RateLimiter = state.rate_limiter
    return rl


def _check_failures(request: HTTPConnection, settings: Settings, source: str) -> None:
    try:
        limiter(request).check(settings.rate_limit.token, "key:fail", source)
    except RateLimited as exc:
        raise rate_limited(exc) from None


def user_from_token(settings: Settings, token: str) -> AuthUser:
    try:
        c = verify_access(settings, token)
    except InvalidToken:
        raise _unauthorized("invalid or expired access token") from None
    return AuthUser(c.user_id, c.org_id, c.role, c.platform_admin)


def get_current_user(request: Request, _declared: AccessTokenAuth = None) -> AuthUser:
    token = _bearer(request)
    if token is None:
        raise _unauthorized("missing bearer token")
    return user_from_token(request.app.state.settings, token)


CurrentUser = Annotated[AuthUser, Depends(get_current_user)]


# The platform admin acting for an organization has no user id of its own in it: this one stands for it.
PLATFORM_ACTOR_USER = UUID(int=0)
OrgIdQuery = Annotated[
    UUID | None,
    Query(
        alias="orgId",
        description="Platform admin only: act for this organization (recorded in its audit trail).",
    ),
]


def platform_actor(settings: Settings, token: str) -> str | None:
    """``admin-token`` or ``user:<id>`` when the bearer is the platform admin, else None."""
    if hmac.compare_digest(token.encode(), settings.api.admin_token.get_secret_value().encode()):
        return "admin-token"
    try:
        claims = verify_access(settings, token)
    except InvalidToken:
        return None
    return f"user:{claims.user_id}" if claims.platform_admin else None


async def _act_for(request: Request, org_id: UUID) -> OrgUser:
    """The platform admin acting for ``org_id`` on an organization route: checked and recorded."""
    token = _bearer(request)
    settings: Settings = request.app.state.settings
    actor = platform_actor(settings, token) if token else None
    if actor is None:
        if token is None:
            raise _unauthorized("missing bearer token")
        raise ApiError(403, "forbidden", "orgId is for the platform admin; members act for their own organization")
    pool: asyncpg.Pool | None = request.app.state.pool
    if pool is None:
        raise ApiError(503, "database_unavailable", "the database is not connected yet")
    async with tenant_connection(pool, org_id) as conn:
        if not await accounts_repo.org_exists(conn, org_id):
            raise ApiError(404, "not_found", "no such organization")
        await accounts_repo.record_admin_action(conn, org_id, actor, request.method, request.url.path)
    log.info("platform admin acting for org=%s: %s %s", org_id, request.method, request.url.path)
    return OrgUser(PLATFORM_ACTOR_USER, org_id, "admin", True)


async def require_org_member(
    request: Request,
    org: OrgIdQuery = None,
    _declared: AccessTokenAuth = None,
    _admin: AdminTokenAuth = None,
) -> OrgUser:
    if org is not None:
        return await _act_for(request, org)
    user = get_current_user(request)
    if user.org_id is None or user.role is None:
        raise ApiError(403, "forbidden", "this account belongs to no organization")
    role = await current_role(request, user.org_id, user.user_id)  # not the token's: it may be stale
    return OrgUser(user.user_id, user.org_id, role, user.platform_admin)


OrgMember = Annotated[OrgUser, Depends(require_org_member)]


def require_org_admin(user: OrgMember) -> OrgUser:
    if not user.is_org_admin:
        raise ApiError(403, "forbidden", "requires the owner or admin role in an organization")
    return user


OrgAdmin = Annotated[OrgUser, Depends(require_org_admin)]


def forget_key(request: HTTPConnection, prefix: str) -> None:
    """Drop a key from this process's cache (other processes hear it from the database, migration 0111)."""
    credential_cache(request.app.state).forget(prefix)


async def _load_key(pool: asyncpg.Pool, prefix: str) -> CachedKey | None:
    async with tenant_connection(pool, None) as conn:
        row = await devices_repo.lookup_api_key(conn, prefix)
    if row is None:
        return None
    return CachedKey(
        key_id=row["id"],
        org_id=row["org_id"],
        kind=row["kind"],
        device_id=row["device_id"],
        key_hash=bytes(row["key_hash"]),
        allowed_origins=tuple(row["allowed_origins"]),
        revoked=row["revoked"],
        fetched=time.monotonic(),
    )


def _last_used(state: Any) -> dict[str, float]:
    written: dict[str, float] | None = getattr(state, "api_key_last_used", None)
    if written is None or len(written) >= CACHE_MAX_ENTRIES:
        written = state.api_key_last_used = {}
    return written


async def principal_from_key(request: HTTPConnection, key: str) -> Principal:
    parsed = parse_key(key)
    if parsed is None:
        raise _unauthorized("invalid API key")
    kind, prefix = parsed
    state = request.app.state
    settings: Settings = state.settings
    cache = credential_cache(state)
    now = time.monotonic()
    entry = cache.get(prefix, now)
    if entry is None:
        # Unknown keys cost a database lookup: a source that keeps failing is stopped before that. A
        # valid key already in the cache costs nothing to check, so it is not refused for its source's
        # failures (a shop's one misconfigured device does not lock out its other devices).
        source = client_address(request)
        _check_failures(request, settings, source)
        pool: asyncpg.Pool | None = state.pool
        if pool is None:
            raise ApiError(503, "database_unavailable", "the database is not connected yet")
        generation = cache.generation
        entry = await _load_key(pool, prefix)
        if entry is None:
            limiter(request).record(settings.rate_limit.token, "key:fail", source)
            raise _unauthorized("invalid API key")
        cache.put(prefix, entry, generation)
    if entry.revoked or entry.kind != kind or not key_matches(key, entry.key_hash):
        source = client_address(request)
        _check_failures(request, settings, source)  # guesses at a known prefix are limited like unknown keys
        limiter(request).record(settings.rate_limit.token, "key:fail", source)
        log.info("api key refused: prefix=%s revoked=%s source=%s", prefix, entry.revoked, source)
        raise _unauthorized("invalid or revoked API key")
    if kind == "publishable":
        origin = request.headers.get("origin")
        if origin is None or origin not in entry.allowed_origins:
            raise ApiError(403, "origin_not_allowed", "this publishable key is not valid from this origin")
    last_used = _last_used(state)
    if now - last_used.get(prefix, -LAST_USED_RESOLUTION) >= LAST_USED_RESOLUTION:
        last_used[prefix] = now
        async with tenant_connection(state.pool, entry.org_id) as conn:
            await devices_repo.touch_api_key(conn, entry.key_id)
    return Principal(
        kind="device" if kind == "device" else "publishable",
        org_id=entry.org_id,
        subject=prefix,
        device_id=entry.device_id,
        key_id=entry.key_id,
    )


async def get_principal(request: Request, _token: AccessTokenAuth = None, _key: ApiKeyAuth = None) -> Principal:
    """Any credential that may act for an organization: ``X-API-Key``, or a bearer key or access token."""
    token = request.headers.get("x-api-key") or _bearer(request)
    if token is None:
        raise _unauthorized("missing credential (bearer access token or API key)")
    if token.startswith(("bk_", "pk_")):
        return await principal_from_key(request, token)
    user = user_from_token(request.app.state.settings, token)
    if user.org_id is None:
        raise ApiError(403, "forbidden", "this account belongs to no organization")
    org_id = user.org_id
    role = await current_role(request, org_id, user.user_id)  # a removed member stops here at once
    user = AuthUser(user.user_id, org_id, role, user.platform_admin)
    return Principal(kind="user", org_id=org_id, subject=str(user.user_id), user=user)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
