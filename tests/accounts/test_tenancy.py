"""Tenant isolation, twice: 404 for another organization's objects, and row-level security underneath."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from db.tenancy import tenant_connection
from tests.accounts.helpers import Org, device_for_org, put_solution, register, token_body
from tests.conftest import TEST_LK_KEY, TEST_LK_SECRET
from tests.webhook_signing import event_body, sign

# Identity tables that carry an org_id but are read before any organization is known (by the
# refresh token's own id); documented in docs/accounts.md.
NOT_TENANT_SCOPED = {"refresh_tokens"}


async def _populate(client: httpx.AsyncClient, org: Org) -> dict[str, str]:
    """One of every tenant-owned object for ``org``."""
    await put_solution(client, org)
    device = await device_for_org(client, org)
    r = await client.post(
        "/keys/publishable", json={"name": "site", "allowedOrigins": ["https://a.example"]}, headers=org.headers
    )
    key_id = r.json()["id"]
    await client.put("/credentials/twitch", json={"secret": f'{{"client_id":"{org.org_id}"}}'}, headers=org.headers)
    room = (await client.post("/token", json=token_body(org.org_id), headers=org.headers)).json()["room"]
    body = event_body("room_started", room_sid=f"RM_{org.org_id[:8]}", room_name=room, created_at=1000)
    r = await client.post(
        "/livekit/webhook", content=body, headers={"Authorization": sign(body, TEST_LK_KEY, TEST_LK_SECRET)}
    )
    assert r.status_code == 200
    return {"device": device["balcao_id"], "key": key_id, "session": f"RM_{org.org_id[:8]}"}


async def test_other_tenant_objects_are_404(client: httpx.AsyncClient) -> None:
    a = await register(client, "A")
    b = await register(client, "B")
    objs = await _populate(client, a)
    for method, path in (
        ("GET", f"/devices/{objs['device']}"),
        ("DELETE", f"/devices/{objs['device']}"),
        ("GET", f"/keys/publishable/{objs['key']}"),
        ("DELETE", f"/keys/publishable/{objs['key']}"),
        ("GET", f"/sessions/{objs['session']}"),
        ("GET", "/solutions/AiHelper"),
        ("DELETE", "/solutions/AiHelper"),
        ("GET", "/credentials/twitch"),
        ("DELETE", "/credentials/twitch"),
    ):
        r = await client.request(method, path, headers=b.headers)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["error"]["code"] == "not_found"
        assert (await client.request("GET", path, headers=a.headers)).status_code == 200, path
    # B's lists are empty, A's objects untouched.
    for path in ("/devices", "/keys/publishable", "/sessions", "/solutions", "/credentials"):
        assert (await client.get(path, headers=b.headers)).json()["items"] == [], path
    assert (await client.get("/devices", headers=a.headers)).json()["items"][0]["revokedAt"] is None


async def test_rls_unfiltered_queries_see_one_org(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    a = await register(client, "A")
    b = await register(client, "B")
    await _populate(client, a)
    await _populate(client, b)
    async with db_pool.acquire() as conn:
        tables = [
            r["table_name"]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' "
                "AND column_name = 'org_id' ORDER BY table_name"
            )
        ]
    mine = [
        "memberships",
        "link_codes",
        "devices",
        "api_keys",
        "solutions",
        "rooms",
        "provider_credentials",
        "sessions",
    ]
    assert set(mine) <= set(tables)
    async with tenant_connection(db_pool, a.org_id) as conn:
        assert await conn.fetchval("SELECT current_user") == "escuta_app"
        owners = {
            r["tableowner"] for r in await conn.fetch("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")
        }
        assert "escuta_app" not in owners
        for table in mine:
            # Deliberately unfiltered: RLS alone must keep B's rows out.
            orgs = {r["org_id"] for r in await conn.fetch(f"SELECT org_id FROM {table}")}
            assert orgs == {uuid.UUID(a.org_id)}, table
        assert [r["id"] for r in await conn.fetch("SELECT id FROM organizations")] == [uuid.UUID(a.org_id)]
        # Updates and deletes cannot reach B either.
        assert await conn.execute("DELETE FROM solutions") == "DELETE 1"
    async with db_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM solutions") == 1
    # Writing a row for another organization is refused by the policy's WITH CHECK.
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with tenant_connection(db_pool, a.org_id) as conn:
            await conn.execute(
                "INSERT INTO solutions (org_id, name, profile) VALUES ($1, 'x', 'y')", uuid.UUID(b.org_id)
            )
    # No organization set: no tenant rows at all.
    async with tenant_connection(db_pool, None) as conn:
        for table in mine:
            assert await conn.fetchval(f"SELECT count(*) FROM {table} WHERE org_id IS NOT NULL") == 0, table
    # The scope is transaction-local: the pooled connection comes back as its login role.
    async with db_pool.acquire() as conn:
        assert await conn.fetchval("SELECT current_user") != "escuta_app"
        assert await conn.fetchval("SELECT current_setting('app.org_id', true)") in (None, "")


async def test_every_org_table_has_rls(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        rows = await conn.fetch(
            """
            SELECT c.relname, c.relrowsecurity,
                   EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid) AS has_policy
            FROM pg_class c JOIN information_schema.columns col
              ON col.table_name = c.relname AND col.table_schema = 'public' AND col.column_name = 'org_id'
            WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
            """
        )
    unprotected = [r["relname"] for r in rows if not (r["relrowsecurity"] and r["has_policy"])]
    assert sorted(set(unprotected) - NOT_TENANT_SCOPED) == []


async def test_nested_scope_restores_outer(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    a = await register(client, "A")
    b = await register(client, "B")
    async with tenant_connection(db_pool, a.org_id) as conn:
        async with tenant_connection(conn, b.org_id) as inner:
            assert await inner.fetchval("SELECT id FROM organizations") == uuid.UUID(b.org_id)
        assert await conn.fetchval("SELECT id FROM organizations") == uuid.UUID(a.org_id)
        assert await conn.fetchval("SELECT current_user") == "escuta_app"
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with tenant_connection(conn, b.org_id) as inner:
                await inner.execute(
                    "INSERT INTO solutions (org_id, name, profile) VALUES ($1, 'x', 'y')", uuid.UUID(a.org_id)
                )
        assert await conn.fetchval("SELECT id FROM organizations") == uuid.UUID(a.org_id)
