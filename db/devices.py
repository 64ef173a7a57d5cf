"""Link codes, devices ("balcões", seed 001) and API keys (device and publishable)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from core.security.keys import KeyKind, NewKey, key_matches, new_key, parse_key
from db.pool import Conn
from db.query import ALL, Keyset, Page, SortKey, Where, fetch_page
from db.tenancy import tenant_connection


async def create_link_code(conn: Conn, org_id: UUID, *, ttl: int, max_devices: int) -> str:
    """A fresh 6-digit code, unique among the codes still valid on the whole platform."""
    for _ in range(50):
        code = f"{secrets.randbelow(1_000_000):06d}"
        if not await conn.fetchval("SELECT escuta_link_code_in_use($1)", code):
            break
    else:  # 10^6 codes and a handful in use: practically unreachable
        raise RuntimeError("could not find a free link code")
    await conn.execute(
        "INSERT INTO link_codes (org_id, code, max_devices, expires_at) VALUES ($1, $2, $3, $4)",
        org_id,
        code,
        max_devices,
        datetime.now(UTC) + timedelta(seconds=ttl),
    )
    return code


async def lookup_link_code(conn: Conn, code: str) -> asyncpg.Record | None:
    """The newest code row with this value, whatever its state: a cross-tenant read, pre-auth."""
    return await conn.fetchrow("SELECT * FROM escuta_link_code_lookup($1)", code)


async def claim_link_code(conn: Conn, code_id: UUID) -> bool:
    """Use one registration of a code; False if it expired, was revoked or is used up meanwhile."""
    status = await conn.execute(
        """
        UPDATE link_codes SET used_count = used_count + 1
        WHERE id = $1 AND used_count < max_devices AND expires_at > now() AND revoked_at IS NULL
        """,
        code_id,
    )
    return status == "UPDATE 1"


async def create_device(conn: Conn, org_id: UUID, name: str, link_code_id: UUID | None) -> UUID:
    device_id: UUID = await conn.fetchval(
        "INSERT INTO devices (org_id, name, link_code_id) VALUES ($1, $2, $3) RETURNING id",
        org_id,
        name,
        link_code_id,
    )
    return device_id


async def create_api_key(
    conn: Conn,
    org_id: UUID,
    kind: KeyKind,
    name: str,
    *,
    device_id: UUID | None = None,
    allowed_origins: list[str] | None = None,
) -> tuple[NewKey, UUID]:
    key = new_key(kind)
    key_id: UUID = await conn.fetchval(
        """
        INSERT INTO api_keys (org_id, kind, device_id, name, prefix, key_hash, allowed_origins)
        VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
        """,
        org_id,
        kind,
        device_id,
        name,
        key.prefix,
        key.key_hash,
        allowed_origins or [],
    )
    return key, key_id


async def list_devices(conn: Conn, org_id: UUID, device_id: UUID | None = None) -> list[asyncpg.Record]:
    """The organization's devices with their key's ``prefix`` and ``last_used_at`` (only ``device_id``, when
    given: an empty list if it is not theirs)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT d.id, d.name, d.created_at, d.revoked_at, k.prefix, k.last_used_at
        FROM devices d LEFT JOIN api_keys k ON k.device_id = d.id
        WHERE d.org_id = $1 AND ($2::uuid IS NULL OR d.id = $2) ORDER BY d.created_at, d.id
        """,
        org_id,
        device_id,
    )
    return rows


async def revoke_device(conn: Conn, org_id: UUID, device_id: UUID) -> list[str] | None:
    """Revoke a device and its keys; their prefixes (to drop from caches), or None if not this org's."""
    found = await conn.fetchval(
        "UPDATE devices SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 AND org_id = $2 RETURNING id",
        device_id,
        org_id,
    )
    if found is None:
        return None
    rows = await conn.fetch(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE device_id = $1 AND org_id = $2 "
        "RETURNING prefix",
        device_id,
        org_id,
    )
    return [r["prefix"] for r in rows]


async def list_publishable_keys(conn: Conn, org_id: UUID, key_id: UUID | None = None) -> list[asyncpg.Record]:
    """The organization's publishable keys (only ``key_id``, when given: an empty list if it is not theirs)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM api_keys WHERE org_id = $1 AND kind = 'publishable' AND ($2::uuid IS NULL OR id = $2)"
        " ORDER BY created_at, id",
        org_id,
        key_id,
    )
    return rows


async def revoke_publishable_key(conn: Conn, org_id: UUID, key_id: UUID) -> str | None:
    prefix: str | None = await conn.fetchval(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) "
        "WHERE id = $1 AND org_id = $2 AND kind = 'publishable' RETURNING prefix",
        key_id,
        org_id,
    )
    return prefix


@dataclass(frozen=True)
class KeyIdentity:
    key_id: UUID
    org_id: UUID
    kind: KeyKind
    device_id: UUID | None
    allowed_origins: tuple[str, ...]


async def verify_api_key(pool: asyncpg.Pool, key: str) -> KeyIdentity | None:
    """Who a ``bk_``/``pk_`` key belongs to, or None if it is unknown, malformed or revoked.

    Request-free (no cache, no origin check) for callers outside the HTTP API, e.g. seed 001's WebSocket
    handshake ``{"api_key": "bk_..."}``. Constant-time hash comparison; never logs the key.
    """
    parsed = parse_key(key)
    if parsed is None:
        return None
    kind, prefix = parsed
    async with tenant_connection(pool, None) as conn:
        row = await conn.fetchrow("SELECT * FROM escuta_api_key_lookup($1)", prefix)
    if row is None or row["revoked"] or row["kind"] != kind or not key_matches(key, bytes(row["key_hash"])):
        return None
    return KeyIdentity(row["id"], row["org_id"], kind, row["device_id"], tuple(row["allowed_origins"]))


async def device_exists(conn: Conn, org_id: UUID, device_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM devices WHERE org_id = $1 AND id = $2", org_id, device_id))


async def lookup_api_key(conn: Conn, prefix: str) -> asyncpg.Record | None:
    """The key with this lookup prefix, across organizations (a SECURITY DEFINER function: the caller
    has no organization yet; it proves one by the key's secret)."""
    return await conn.fetchrow("SELECT * FROM escuta_api_key_lookup($1)", prefix)


async def touch_api_key(conn: Conn, key_id: UUID) -> None:
    await conn.execute("UPDATE api_keys SET last_used_at = now() WHERE id = $1", key_id)


DEVICES = Keyset("devices", (SortKey("d.created_at", "timestamptz"), SortKey("d.id", "uuid")))
PUBLISHABLE_KEYS = Keyset("publishable_keys", (SortKey("created_at", "timestamptz"), SortKey("id", "uuid")))


async def page_devices(conn: Conn, org_id: UUID, *, limit: int = ALL, cursor: str | None = None) -> Page:
    """The organization's devices (as :func:`list_devices`), oldest first, after ``cursor``."""
    select = (
        "SELECT d.id, d.name, d.created_at, d.revoked_at, k.prefix, k.last_used_at"
        " FROM devices d LEFT JOIN api_keys k ON k.device_id = d.id"
    )
    where = Where().org("d.org_id", org_id)
    return await fetch_page(conn, DEVICES, select=select, where=where, limit=limit, cursor=cursor)


async def page_publishable_keys(conn: Conn, org_id: UUID, *, limit: int = ALL, cursor: str | None = None) -> Page:
    where = Where().org("org_id", org_id).raw("kind = 'publishable'")
    select = "SELECT * FROM api_keys"
    return await fetch_page(conn, PUBLISHABLE_KEYS, select=select, where=where, limit=limit, cursor=cursor)
