"""Accounts (issue 4): user tokens, provider credentials at rest, device link codes, abuse limits."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator

from core.settings.base import Section
from core.settings.dev import DEV_JWT_ACCESS_SECRET, DEV_JWT_REFRESH_SECRET


class JwtSettings(Section):
    prefix: ClassVar[str] = "jwt_"
    env_aliases: ClassVar[dict[str, tuple[str, ...]]] = {
        "access_secret": (
            "ESCUTA_JWT_ACCESS_SECRET",
            "JWT_ACCESS_SECRET",
        ),
        "refresh_secret": (
            "ESCUTA_JWT_REFRESH_SECRET",
            "JWT_REFRESH_SECRET",
        ),
        "access_ttl": (
            "ESCUTA_JWT_ACCESS_TTL",
            "JWT_ACCESS_TTL",
        ),
        "refresh_ttl": (
            "ESCUTA_JWT_REFRESH_TTL",
            "JWT_REFRESH_TTL",
        ),
    }

    access_secret: SecretStr = Field(
        SecretStr(DEV_JWT_ACCESS_SECRET),
        description="HMAC secret signing user access tokens (seed 002's `JWT_ACCESS_SECRET`). Change in prod.",
    )
    refresh_secret: SecretStr = Field(
        SecretStr(DEV_JWT_REFRESH_SECRET),
        description="HMAC secret signing refresh tokens (seed 002's `JWT_REFRESH_SECRET`). Change in prod.",
    )
    access_ttl: int = Field(
        900,
        ge=30,
        description="Access token lifetime in seconds (seed 002's `JWT_ACCESS_TTL`).",
    )
    refresh_ttl: int = Field(
        2_592_000,
        ge=60,
        description="Refresh token lifetime in seconds (seed 002's `JWT_REFRESH_TTL`, 30 days).",
    )


class CredentialsSettings(Section):
    prefix: ClassVar[str] = "credentials_"
    flat_names: ClassVar[dict[str, str]] = {
        "platform_default_providers": "platform_default_providers",
        "platform_default_keys": "platform_default_keys",
    }

    key: SecretStr | None = Field(
        None,
        description="Base64 of 32 random bytes: the AES-256-GCM key for provider credentials at rest. "
        "Required in prod; dev without it uses a fixed, public dev key.",
    )
    platform_default_providers: list[str] = Field(
        [],
        description="Providers for which an organization without its own key may use the platform key "
        "(JSON list). Empty: no global fallback (seed 000).",
    )
    platform_default_keys: dict[str, SecretStr] = Field(
        {},
        description="Platform keys by provider (JSON object), used only for providers enabled above.",
    )


class LinkCodeSettings(Section):
    prefix: ClassVar[str] = "link_code_"

    ttl: int = Field(86_400, ge=60, description="Seconds a 6-digit device link code stays valid.")
    max_devices: int = Field(10, ge=1, description="Devices (balcões) one link code may register before it is used up.")


class RateLimitSettings(Section):
    prefix: ClassVar[str] = "rate_limit_"

    login: str = Field(
        "10/minute", description="Login attempts per e-mail and per source address (e.g. `10/minute`, `5 per hour`)."
    )
    link_code: str = Field("10/minute", description="Device registrations (`/cadastro/balcao`) per source address.")
    link_code_failures: str = Field(
        "5/hour", description="Wrong attempts allowed per code value and per source address before 429."
    )
    link_code_global_failures: str = Field(
        "200/hour",
        description="Wrong link-code attempts allowed platform-wide (bounds distributed guessing).",
    )
    token: str = Field("120/minute", description="`/token` mints per credential (key or user) and per source address.")

    @field_validator("login", "link_code", "link_code_failures", "link_code_global_failures", "token")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from core.security.ratelimit import parse_limit  # raises ValueError naming the bad value

        parse_limit(value)
        return value
