"""User access and refresh tokens: HS256 JWTs with separate secrets (seed 002's two secrets).

An access token is stateless (checked by signature and expiry only) and short-lived. A refresh token
also names a database row (its ``jti``), which is what makes rotation and revocation possible.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from core.settings import Settings

_ALG = "HS256"
_ISSUER = "escuta"


class InvalidToken(Exception):
    """Expired, tampered, of the wrong type, or not a token at all."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    org_id: uuid.UUID | None
    role: str | None
    platform_admin: bool


@dataclass(frozen=True)
class RefreshClaims:
    token_id: uuid.UUID
    family_id: uuid.UUID
    user_id: uuid.UUID


def issue_access(
    settings: Settings, *, user_id: uuid.UUID, org_id: uuid.UUID | None, role: str | None, platform_admin: bool
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": _ISSUER,
        "typ": "access",
        "sub": str(user_id),
        "org": str(org_id) if org_id else None,
        "role": role,
        "padm": platform_admin,
        "iat": now,
        "exp": now + settings.jwt.access_ttl,
    }
    return jwt.encode(claims, settings.jwt.access_secret.get_secret_value(), algorithm=_ALG)


def issue_refresh(
    settings: Settings, *, token_id: uuid.UUID, family_id: uuid.UUID, user_id: uuid.UUID, expires_at: int
) -> str:
    claims = {
        "iss": _ISSUER,
        "typ": "refresh",
        "sub": str(user_id),
        "jti": str(token_id),
        "fam": str(family_id),
        "iat": int(time.time()),
        "exp": expires_at,
    }
    return jwt.encode(claims, settings.jwt.refresh_secret.get_secret_value(), algorithm=_ALG)


def _decode(token: str, secret: str, typ: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[_ALG], issuer=_ISSUER, options={"require": ["exp", "sub", "typ"]}
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(type(exc).__name__) from None
    if claims.get("typ") != typ:
        raise InvalidToken("wrong token type")
    return claims


def verify_access(settings: Settings, token: str) -> AccessClaims:
    c = _decode(token, settings.jwt.access_secret.get_secret_value(), "access")
    try:
        return AccessClaims(
            user_id=uuid.UUID(c["sub"]),
            org_id=uuid.UUID(c["org"]) if c.get("org") else None,
            role=c.get("role"),
            platform_admin=bool(c.get("padm")),
        )
    except (KeyError, ValueError, TypeError):
        raise InvalidToken("malformed claims") from None


def verify_refresh(settings: Settings, token: str) -> RefreshClaims:
    c = _decode(token, settings.jwt.refresh_secret.get_secret_value(), "refresh")
    try:
        return RefreshClaims(uuid.UUID(c["jti"]), uuid.UUID(c["fam"]), uuid.UUID(c["sub"]))
    except (KeyError, ValueError, TypeError):
        raise InvalidToken("malformed claims") from None
