"""Provider credentials (seed 000): encrypted at rest, never returned, resolved for the agents."""

from __future__ import annotations

import base64
import os
import uuid

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from core.crypto import DecryptionError, decrypt_secret, encrypt_secret
from core.settings import ConfigError, Settings
from db.credentials import MissingCredentialError, resolve_credential
from db.tenancy import tenant_connection
from tests.accounts.helpers import register
from tests.conftest import make_settings

SECRET = "sk-live-0123456789abcdefSECRETVALUE9f2a"


async def test_put_get_delete_never_returns_secret(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, settings: Settings
) -> None:
    org = await register(client)
    r = await client.put("/credentials/openai", json={"secret": SECRET}, headers=org.headers)
    assert r.status_code == 200
    assert set(r.json()) == {"provider", "hint", "createdAt", "updatedAt"}
    assert r.json()["hint"] == "sk-…9f2a"
    for resp in (
        r,
        await client.get("/credentials/openai", headers=org.headers),
        await client.get("/credentials", headers=org.headers),
    ):
        assert resp.status_code == 200 and SECRET not in resp.text and SECRET[3:-4] not in resp.text

    # The raw column is ciphertext: no trace of the secret, and it only opens with the key.
    async with db_pool.acquire() as conn:
        raw = bytes(await conn.fetchval("SELECT ciphertext FROM provider_credentials"))
    assert SECRET.encode() not in raw and SECRET[8:20].encode() not in raw
    assert base64.b64encode(SECRET.encode()) not in raw
    assert await resolve_credential(db_pool, org.org_id, "openai", settings=settings) == SECRET
    other_key = make_settings(credentials_key=base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(DecryptionError):
        decrypt_secret(raw, other_key, aad=f"{org.org_id}:openai".encode())

    r = await client.put("/credentials/bogus", json={"secret": "x"}, headers=org.headers)
    assert r.status_code == 400
    assert (await client.delete("/credentials/openai", headers=org.headers)).status_code == 200
    assert (await client.get("/credentials/openai", headers=org.headers)).status_code == 404
    with pytest.raises(MissingCredentialError, match="no openai credential"):
        await resolve_credential(db_pool, org.org_id, "openai", settings=settings)


async def test_no_global_fallback_unless_enabled(db_pool: asyncpg.Pool, client: httpx.AsyncClient) -> None:
    org = await register(client)
    keys = {"elevenlabs": SecretStr("platform-el-key")}
    off = make_settings(platform_default_keys=keys)  # a key exists, but its provider is not enabled
    with pytest.raises(MissingCredentialError):
        await resolve_credential(db_pool, org.org_id, "elevenlabs", settings=off)
    on = make_settings(platform_default_keys=keys, platform_default_providers=["elevenlabs"])
    assert await resolve_credential(db_pool, org.org_id, "elevenlabs", settings=on) == "platform-el-key"
    with pytest.raises(MissingCredentialError):
        await resolve_credential(db_pool, org.org_id, "hume", settings=on)


async def test_ciphertext_bound_to_its_row(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, settings: Settings
) -> None:
    a = await register(client, "A")
    b = await register(client, "B")
    await client.put("/credentials/hume", json={"secret": SECRET}, headers=a.headers)
    await client.put("/credentials/hume", json={"secret": "b-own-key-000000000000"}, headers=b.headers)
    async with db_pool.acquire() as conn:
        await conn.execute(
            "UPDATE provider_credentials SET ciphertext = (SELECT ciphertext FROM provider_credentials "
            "WHERE org_id = $1) WHERE org_id = $2",
            uuid.UUID(a.org_id),
            uuid.UUID(b.org_id),
        )
    # A's ciphertext pasted onto B's row does not decrypt as B's key.
    with pytest.raises(DecryptionError):
        await resolve_credential(db_pool, b.org_id, "hume", settings=settings)
    async with tenant_connection(db_pool, a.org_id) as conn:
        assert await resolve_credential(conn, a.org_id, "hume", settings=settings) == SECRET


def test_encryption_roundtrip_and_tamper() -> None:
    s = make_settings(credentials_key=base64.urlsafe_b64encode(os.urandom(32)).decode())
    blob = encrypt_secret("hello", s)
    assert decrypt_secret(blob, s) == "hello" and encrypt_secret("hello", s) != blob  # fresh nonce each time
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DecryptionError):
        decrypt_secret(flipped, s)


def test_prod_refuses_to_start_without_key() -> None:
    strong = "x" * 40
    base = {
        "env": "prod",
        "livekit_api_secret": strong,
        "admin_token": strong,
        "jwt_access_secret": strong,
        "jwt_refresh_secret": strong + "y",
    }
    with pytest.raises(ConfigError, match="ESCUTA_CREDENTIALS_KEY"):
        make_settings(**base).check_production()
    with pytest.raises(ConfigError, match="32 bytes"):
        make_settings(**base, credentials_key="c2hvcnQ=").check_production()
    make_settings(**base, credentials_key=base64.b64encode(os.urandom(32)).decode()).check_production()
    with pytest.raises(ConfigError, match="JWT_ACCESS_SECRET"):
        make_settings(
            **{**base, "jwt_access_secret": "dev-access-secret-not-for-production"},
            credentials_key=base64.b64encode(os.urandom(32)).decode(),
        ).check_production()
