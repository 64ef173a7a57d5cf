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


class InvitationSettings(Section):
    prefix: ClassVar[str] = "invitation_"

    ttl: int = Field(
        7 * 86_400, ge=300, description="Seconds an invitation to an organization (`POST /members`) stays valid."
    )


class RateLimitSettings(Section):
    prefix: ClassVar[str] = "rate_limit_"

    login: str = Field(
        "10/minute",
        description="Login, sign-up and invitation-acceptance attempts per source address "
        "(e.g. `10/minute`, `5 per hour`).",
    )
    login_failures: str = Field(
        "5/15 minutes",
        description="Wrong passwords per account and source address before that pair gets 429 "
        "(the account's owner elsewhere is not affected).",
    )
    link_code: str = Field("10/minute", description="Device registrations (`/cadastro/balcao`) per source address.")
    link_code_failures: str = Field(
        "5/hour", description="Wrong attempts allowed per code value and per source address before 429."
    )
    link_code_global_failures: str = Field(
        "36/hour",
        description="Wrong link-code attempts allowed platform-wide (bounds distributed guessing: with 36/hour "
        "and 24 h codes, a live code's chance of being guessed in its lifetime is at most 0.09 %).",
    )
    token: str = Field("120/minute", description="`/token` mints per credential (key or user) and per source address.")
    invitations: str = Field(
        "50/hour",
        description="Invitations (`POST /members`) per organization: with `ESCUTA_SMTP_HOST` set each one is an "
        "e-mail, and Escuta must not become a way to send them in bulk.",
    )

    @field_validator(
        "login",
        "login_failures",
        "invitations",
        "link_code",
        "link_code_failures",
        "link_code_global_failures",
        "token",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from core.security.ratelimit import parse_limit  # raises ValueError naming the bad value

        parse_limit(value)
        return value


class SmtpSettings(Section):
    prefix: ClassVar[str] = "smtp_"

    host: str | None = Field(
        None,
        description="SMTP server that e-mails invitations. Unset (the default): nothing is sent; the inviter "
        "hands over the token `POST /members` answers.",
    )
    port: int = Field(25, ge=1, le=65535, description="SMTP port.")
    starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS before sending.")
    username: str | None = Field(None, description="SMTP login (with `ESCUTA_SMTP_PASSWORD`), if the server wants one.")
    password: SecretStr | None = Field(None, description="SMTP password.")
    sender: str = Field("escuta@localhost", description="`From:` address of invitation e-mails.")
    link_base_url: str = Field(
        "http://127.0.0.1:8000", description="Where invitees open their link (the console's public URL)."
    )
    timeout: float = Field(10.0, gt=0, description="Seconds before an SMTP conversation is given up.")
