"""Seed 001's provisioning: `/cadastro/cliente` and `/cadastro/balcao`, link codes, device keys."""

from __future__ import annotations

import logging
import re
import uuid

import asyncpg
import httpx
import pytest

from tests.accounts.helpers import from_address, new_client_org, register, register_device, token_body
from tests.conftest import make_settings


async def test_seed_001_payloads_and_answers(
    client: httpx.AsyncClient, admin_headers: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    r = await client.post(
        "/cadastro/cliente",
        json={"email": "contato@redepharma.com", "razao_social": "Rede Pharma LTDA", "telefone": "11999998888"},
        headers=admin_headers,
    )
    assert r.status_code == 200
    body = r.json()
    # Seed 001's field first, then Escuta's additions (extra fields allowed; none removed).
    assert next(iter(body)) == "codigo" and re.fullmatch(r"[0-9]{6}", body["codigo"])
    assert set(body) == {"codigo", "organization_id", "client_id", "solution", "invitation"}
    assert body["solution"] == "balcao"

    r = await client.post("/cadastro/balcao", json={"nome_balcao": "Balcão Entrada 01", "user_codigo": body["codigo"]})
    assert r.status_code == 200
    device = r.json()
    assert set(device) == {"api_key", "balcao_id", "status", "client_id", "solution"}
    assert (device["client_id"], device["solution"]) == (body["client_id"], "balcao")
    assert device["status"] == "registered"
    assert re.fullmatch(r"bk_[0-9a-f]{60}", device["api_key"])
    async with db_pool.acquire() as conn:
        org = await conn.fetchrow("SELECT * FROM organizations")
        key_row = await conn.fetchrow("SELECT * FROM api_keys")
        dev = await conn.fetchrow("SELECT * FROM devices")
    assert org is not None and key_row is not None and dev is not None
    assert (org["name"], org["email"], org["phone"]) == ("Rede Pharma LTDA", "contato@redepharma.com", "11999998888")
    async with db_pool.acquire() as conn:
        ttl = await conn.fetchval("SELECT extract(epoch FROM expires_at - created_at) FROM link_codes")
    assert abs(float(ttl) - 86400) < 5  # 24 h by default
    assert str(dev["id"]) == device["balcao_id"] and dev["name"] == "Balcão Entrada 01"
    # Stored as a prefix plus a hash: the key itself is nowhere in the database.
    assert key_row["prefix"] == device["api_key"][:15]
    assert device["api_key"].encode() not in bytes(key_row["key_hash"]) and len(key_row["key_hash"]) == 32


async def test_cliente_requires_platform_admin(client: httpx.AsyncClient) -> None:
    payload = {"email": "a@b.com", "razao_social": "X", "telefone": "1"}
    assert (await client.post("/cadastro/cliente", json=payload)).status_code == 401
    owner = await register(client)
    assert (await client.post("/cadastro/cliente", json=payload, headers=owner.headers)).status_code == 401


async def test_missing_field_named(client: httpx.AsyncClient) -> None:
    r = await client.post("/cadastro/balcao", json={"nome_balcao": "B"})
    assert r.status_code == 400 and "user_codigo" in r.json()["error"]["message"]


async def test_wrong_code_refused(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    code = await new_client_org(client, admin_headers)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    r = await client.post("/cadastro/balcao", json={"nome_balcao": "B", "user_codigo": wrong})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_link_code"


async def test_expired_code_refused(
    client: httpx.AsyncClient, admin_headers: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    code = await new_client_org(client, admin_headers)
    async with db_pool.acquire() as conn:
        await conn.execute("UPDATE link_codes SET expires_at = now() - interval '1 second'")
    r = await client.post("/cadastro/balcao", json={"nome_balcao": "B", "user_codigo": code})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_link_code"


async def test_used_up_code_refused(db_pool: asyncpg.Pool, database_url: str, admin_headers: dict[str, str]) -> None:
    from control_api.app import create_app

    app = create_app(make_settings(database_url=database_url, link_code_max_devices=2), pool=db_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        code = await new_client_org(client, admin_headers)
        first = await register_device(client, code, "Balcão 1")
        second = await register_device(client, code, "Balcão 2")
        assert first["api_key"] != second["api_key"]
        r = await client.post("/cadastro/balcao", json={"nome_balcao": "Balcão 3", "user_codigo": code})
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_link_code"


async def test_brute_force_throttled_and_logged(
    client: httpx.AsyncClient, admin_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    code = await new_client_org(client, admin_headers)
    guesses = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, 8)]
    statuses = []
    with caplog.at_level(logging.INFO, logger="escuta.api.cadastro"):
        for guess in guesses:
            r = await client.post("/cadastro/balcao", json={"nome_balcao": "B", "user_codigo": guess})
            statuses.append(r.status_code)
    # 5 wrong attempts per source per hour, then 429 with Retry-After, even for the right code.
    assert statuses[:5] == [400] * 5 and statuses[5:] == [429, 429]
    assert int(r.headers["retry-after"]) >= 1
    r = await client.post("/cadastro/balcao", json={"nome_balcao": "B", "user_codigo": code})
    assert r.status_code == 429
    refused = [rec for rec in caplog.records if "link code refused" in rec.getMessage()]
    assert len(refused) == 5
    assert all(g not in rec.getMessage() for rec in refused for g in guesses)  # codes are masked in logs


def _balcao(code: str, name: str = "B") -> dict[str, str]:
    return {"nome_balcao": name, "user_codigo": code}


def _throttle_scopes(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The limit named by each "link code throttled (<scope>)" warning, in order."""
    found = [re.search(r"link code throttled \(([^)]+)\)", rec.getMessage()) for rec in caplog.records]
    return [m.group(1) for m in found if m]


async def test_link_code_failures_limited_per_code(
    db_pool: asyncpg.Pool, database_url: str, admin_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """One wrong code tried from many addresses (each failing once) is stopped by the per-code limit."""
    from control_api.app import create_app

    app = create_app(make_settings(database_url=database_url, rate_limit_link_code_failures="3/hour"), pool=db_pool)
    async with from_address(app, "10.0.0.1") as c:
        code = await new_client_org(c, admin_headers)
    wrong, other_wrong = (f"{(int(code) + i) % 1_000_000:06d}" for i in (1, 2))
    statuses = []
    with caplog.at_level(logging.INFO, logger="escuta.api.cadastro"):
        for i in range(1, 6):
            async with from_address(app, f"198.51.100.{i}") as c:
                r = await c.post("/cadastro/balcao", json=_balcao(wrong))
                statuses.append(r.status_code)
                if r.status_code == 429:
                    assert r.json()["error"]["code"] == "rate_limited"
                    assert 1 <= int(r.headers["retry-after"]) <= 3600
        # No address reached its own budget of 3 failures: it is the code value that is locked.
        assert statuses == [400, 400, 400, 429, 429]
        assert _throttle_scopes(caplog) == ["linkcode:fail:code"] * 2
        async with from_address(app, "198.51.100.5") as c:
            # The same address is still heard for another code, and the real code still registers.
            r = await c.post("/cadastro/balcao", json=_balcao(other_wrong))
            assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_link_code"
            assert (await c.post("/cadastro/balcao", json=_balcao(code))).status_code == 200
    refused = [rec.getMessage() for rec in caplog.records if "link code refused" in rec.getMessage()]
    assert len(refused) == 4 and all(wrong not in m and other_wrong not in m for m in refused)
    assert any("198.51.100.3" in m for m in refused)  # the source is logged with each failure


async def test_link_code_failures_limited_platform_wide(
    db_pool: asyncpg.Pool, database_url: str, admin_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Distributed guessing (every address and every code fresh) is bounded by the platform-wide limit."""
    from control_api.app import create_app

    settings = make_settings(database_url=database_url, rate_limit_link_code_global_failures="4/hour")
    app = create_app(settings, pool=db_pool)
    async with from_address(app, "10.0.0.1") as c:
        code = await new_client_org(c, admin_headers)
    guesses = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, 7)]
    statuses = []
    with caplog.at_level(logging.INFO, logger="escuta.api.cadastro"):
        for i, guess in enumerate(guesses, start=1):
            async with from_address(app, f"203.0.113.{i}") as c:
                r = await c.post("/cadastro/balcao", json=_balcao(guess))
                statuses.append(r.status_code)
        assert statuses == [400] * 4 + [429] * 2  # each address and each code failed at most once
        assert 1 <= int(r.headers["retry-after"]) <= 3600
        # While the platform budget is spent, even the right code from a fresh address waits.
        async with from_address(app, "203.0.113.99") as c:
            r = await c.post("/cadastro/balcao", json=_balcao(code))
            assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert _throttle_scopes(caplog) == ["linkcode:fail:global"] * 3


async def test_link_code_attempts_limited_per_source(
    db_pool: asyncpg.Pool, database_url: str, admin_headers: dict[str, str]
) -> None:
    """Registrations per address are limited too, right code or not; other addresses are unaffected."""
    from control_api.app import create_app

    app = create_app(make_settings(database_url=database_url, rate_limit_link_code="2/hour"), pool=db_pool)
    async with from_address(app, "10.0.0.1") as c:
        code = await new_client_org(c, admin_headers)
    async with from_address(app, "192.0.2.10") as c:
        await register_device(c, code, "Balcão 1")
        await register_device(c, code, "Balcão 2")
        r = await c.post("/cadastro/balcao", json=_balcao(code, "Balcão 3"))
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 3600
        # X-Forwarded-For from a direct client is not believed: it cannot buy a fresh budget.
        r = await c.post("/cadastro/balcao", json=_balcao(code, "Balcão 3"), headers={"X-Forwarded-For": "192.0.2.77"})
        assert r.status_code == 429
    async with from_address(app, "192.0.2.11") as c:
        await register_device(c, code, "Balcão 3")


async def test_device_keys_listed_and_revoked(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    owner = await register(client)
    r = await client.post("/cadastro/codigo", headers=owner.headers)
    assert r.status_code == 201
    device = await register_device(client, r.json()["codigo"])
    await client.put("/solutions/AiHelper", json={"profile": "balcao"}, headers=owner.headers)
    key_headers = {"Authorization": f"Bearer {device['api_key']}"}
    assert (await client.post("/token", json=token_body(owner.org_id), headers=key_headers)).status_code == 200

    listed = (await client.get("/devices", headers=owner.headers)).json()["items"]
    assert len(listed) == 1
    item = listed[0]
    assert item["id"] == device["balcao_id"] and item["keyPrefix"] == device["api_key"][:15]
    assert item["lastUsedAt"] is not None and item["revokedAt"] is None
    assert device["api_key"] not in str(listed)
    assert (await client.get(f"/devices/{device['balcao_id']}", headers=owner.headers)).json() == item
    missing = await client.get(f"/devices/{uuid.uuid4()}", headers=owner.headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"

    assert (await client.delete(f"/devices/{device['balcao_id']}", headers=owner.headers)).status_code == 200
    r = await client.post("/token", json=token_body(owner.org_id), headers=key_headers)
    assert r.status_code == 401
    listed = (await client.get("/devices", headers=owner.headers)).json()["items"]
    assert listed[0]["revokedAt"] is not None


async def test_members_cannot_manage_devices(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    owner = await register(client)
    async with db_pool.acquire() as conn:
        await conn.execute("UPDATE memberships SET role = 'member'")
    member = await client.post("/auth/refresh", json={"refreshToken": owner.refresh})
    headers = {"Authorization": f"Bearer {member.json()['accessToken']}"}
    assert (await client.get("/devices", headers=headers)).status_code == 403
    assert (await client.post("/cadastro/codigo", headers=headers)).status_code == 403


async def test_verify_api_key_outside_http(
    client: httpx.AsyncClient, admin_headers: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    from db.devices import verify_api_key

    owner = await register(client)
    code = (await client.post("/cadastro/codigo", headers=owner.headers)).json()["codigo"]
    device = await register_device(client, code)
    found = await verify_api_key(db_pool, device["api_key"])
    assert found is not None and str(found.org_id) == owner.org_id and str(found.device_id) == device["balcao_id"]
    tampered = device["api_key"][:-1] + ("0" if device["api_key"][-1] != "0" else "1")
    assert await verify_api_key(db_pool, tampered) is None
    assert await verify_api_key(db_pool, "bk_short") is None
    await client.delete(f"/devices/{device['balcao_id']}", headers=owner.headers)
    assert await verify_api_key(db_pool, device["api_key"]) is None


async def test_revocation_elsewhere_reaches_cached_keys(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    """Another API process revoked the key (here: straight in the database). This app's cache is not
    listening (no lifespan), so it reads every key; the listening case is tests/test_credential_cache.py."""
    owner = await register(client)
    await client.put("/solutions/AiHelper", json={"profile": "balcao"}, headers=owner.headers)
    code = (await client.post("/cadastro/codigo", headers=owner.headers)).json()["codigo"]
    device = await register_device(client, code)
    key_headers = {"X-API-Key": device["api_key"]}
    assert (await client.post("/token", json=token_body(owner.org_id), headers=key_headers)).status_code == 200
    async with db_pool.acquire() as conn:
        await conn.execute("UPDATE devices SET revoked_at = now()")
    assert (await client.post("/token", json=token_body(owner.org_id), headers=key_headers)).status_code == 401
