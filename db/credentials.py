"""Provider credentials per organization (seed 000: each client's own keys, no global fallback).

Stored encrypted (core/crypto.py) with the organization and provider as associated data, so a
ciphertext moved to another row does not decrypt. Reads for the API return only a masked hint.
"""

from __future__ import annotations

import logging
from uuid import UUID

import asyncpg

from core.crypto import decrypt_secret, encrypt_secret
from core.security.hints import secret_hint
from core.settings import PROVIDERS, Settings, get_settings
from db.pool import Conn
from db.tenancy import tenant_connection

log = logging.getLogger("escuta.credentials")

NEVER_PLATFORM_DEFAULT: frozenset[str] = frozenset({"liveavatar"})
"""Providers that resolve only from the organization's own credentials, whatever the settings say.

Seed 000's rule for the avatar: no LiveAvatar key of its own, no avatar. A platform LiveAvatar key
would make every organization's avatar sessions (and their cost) run on the platform's account.
"""

_warned_ignored_defaults: set[str] = set()


class MissingCredentialError(LookupError):
    """The organization has no key for this provider (and no platform default is enabled and allowed for it)."""

    def __init__(self, org_id: UUID | str, provider: str) -> None:
        super().__init__(
            f"organization {org_id} has no {provider} credential; store one with PUT /credentials/{provider}"
        )
        self.org_id = str(org_id)
        self.provider = provider


def _aad(org_id: UUID | str, provider: str) -> bytes:
    return f"{org_id}:{provider}".encode()


def mask(secret: str) -> str:
    """A hint to recognise a key by: its first 3 and last 4 characters, never more than a quarter of it."""
    return secret_hint(secret)


_INFO = "provider, hint, created_at, updated_at"  # never the ciphertext


async def put_credential(conn: Conn, org_id: UUID, provider: str, secret: str, settings: Settings) -> asyncpg.Record:
    """Store (or replace) the organization's key; its ``provider, hint, created_at, updated_at``."""
    blob = encrypt_secret(secret, settings, aad=_aad(org_id, provider))
    row = await conn.fetchrow(
        f"""
        INSERT INTO provider_credentials (org_id, provider, ciphertext, hint) VALUES ($1, $2, $3, $4)
        ON CONFLICT (org_id, provider) DO UPDATE
           SET ciphertext = EXCLUDED.ciphertext, hint = EXCLUDED.hint, updated_at = now()
        RETURNING {_INFO}
        """,
        org_id,
        provider,
        blob,
        mask(secret),
    )
    assert row is not None
    return row


async def get_credential_info(conn: Conn, org_id: UUID, provider: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_INFO} FROM provider_credentials WHERE org_id = $1 AND provider = $2", org_id, provider
    )


async def list_credentials(conn: Conn, org_id: UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT {_INFO} FROM provider_credentials WHERE org_id = $1 ORDER BY provider", org_id
    )
    return rows


async def delete_credential(conn: Conn, org_id: UUID, provider: str) -> bool:
    status = await conn.execute(
        "DELETE FROM provider_credentials WHERE org_id = $1 AND provider = $2", org_id, provider
    )
    return status != "DELETE 0"


async def resolve_credential(
    conn_or_pool: Conn | asyncpg.Pool,
    org_id: UUID | str,
    provider: str,
    *,
    settings: Settings | None = None,
    allow_platform_default: bool = True,
) -> str:
    """The organization's own key for ``provider``, decrypted: what the agents call before a provider.

    Raises :class:`MissingCredentialError` when the organization has none, unless the platform default
    for that provider is explicitly enabled (``ESCUTA_PLATFORM_DEFAULT_PROVIDERS``) and allowed: never
    with ``allow_platform_default=False``, never for a provider in :data:`NEVER_PLATFORM_DEFAULT`. Given
    a pool, the read runs in a tenant-scoped transaction; given a connection, it is filtered by
    ``org_id`` as is.
    """
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(PROVIDERS)}")
    s = settings or get_settings()
    org = UUID(str(org_id))
    query = "SELECT ciphertext FROM provider_credentials WHERE org_id = $1 AND provider = $2"
    if isinstance(conn_or_pool, asyncpg.Pool):
        async with tenant_connection(conn_or_pool, org) as conn:
            blob = await conn.fetchval(query, org, provider)
    else:
        blob = await conn_or_pool.fetchval(query, org, provider)
    if blob is not None:
        return decrypt_secret(bytes(blob), s, aad=_aad(org, provider))
    if allow_platform_default and platform_default_allowed(provider, s):
        default = s.credentials.platform_default_keys.get(provider)
        if default is not None:
            return default.get_secret_value()
    raise MissingCredentialError(org, provider)


def platform_default_allowed(provider: str, settings: Settings) -> bool:
    """Whether the settings enable a platform key for ``provider`` and the rule lets them.

    A provider in :data:`NEVER_PLATFORM_DEFAULT` listed in ``ESCUTA_PLATFORM_DEFAULT_PROVIDERS`` is
    ignored, with a warning once per process (the setting is a mistake, not a choice to honour).
    """
    if provider not in settings.credentials.platform_default_providers:
        return False
    if provider in NEVER_PLATFORM_DEFAULT:
        if provider not in _warned_ignored_defaults:
            _warned_ignored_defaults.add(provider)
            log.warning(
                "ESCUTA_PLATFORM_DEFAULT_PROVIDERS lists %r, which never falls back to a platform key "
                "(seed 000: each organization uses its own %s key); the setting is ignored for it",
                provider,
                provider,
            )
        return False
    return True
