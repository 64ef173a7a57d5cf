"""Cached key lookups across API processes (issue 20.4): revocation honoured at once, no tenant crossover.

Two app instances on the same database stand for two API processes: each runs its lifespan, so each
keeps its own cache and its own LISTEN connection (control_api/credential_cache.py, migration 0111).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from fastapi import FastAPI

from control_api.app import create_app
from control_api.credential_cache import CredentialCache, credential_cache
from core.settings import Settings
from tests.accounts.helpers import Org, device_for_org, put_solution, register, token_body


@pytest.fixture
async def apps(settings: Settings, db_pool: asyncpg.Pool) -> AsyncIterator[list[tuple[FastAPI, httpx.AsyncClient]]]:
    async with AsyncExitStack() as stack:
        out = []
        for _ in range(2):
            app = create_app(settings, pool=db_pool)
            await stack.enter_async_context(app.router.lifespan_context(app))
            await credential_cache(app.state).wait_ready()
            transport = httpx.ASGITransport(app=app)
            client = await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://t"))
            out.append((app, client))
        yield out


def _claims(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    claims: dict[str, Any] = jwt.decode(answer.json()["token"], options={"verify_signature": False})
    return claims


async def _device_key(
    client: httpx.AsyncClient, name: str = "Rede", profile: str = "balcao"
) -> tuple[Org, dict[str, Any]]:
    org = await register(client, name)
    await put_solution(client, org, profile=profile)
    return org, await device_for_org(client, org)


async def test_a_key_revoked_in_one_process_is_refused_by_the_other_at_once(
    apps: list[tuple[FastAPI, httpx.AsyncClient]],
) -> None:
    (_, a), (app_b, b) = apps
    org, device = await _device_key(a)
    headers = {"X-API-Key": device["api_key"]}
    for _ in range(2):
        assert (await b.post("/token", json=token_body(org.org_id), headers=headers)).status_code == 200
    cache_b = credential_cache(app_b.state)
    assert cache_b.get(device["api_key"][:15], time.monotonic()) is not None  # B serves it from memory

    assert (await a.delete(f"/devices/{device['balcao_id']}", headers=org.headers)).status_code == 200
    r = await b.post("/token", json=token_body(org.org_id), headers=headers)
    assert r.status_code == 401, r.text


async def test_a_publishable_key_revoked_elsewhere_is_refused_at_once(
    apps: list[tuple[FastAPI, httpx.AsyncClient]],
) -> None:
    (_, a), (_, b) = apps
    org = await register(a, "Loja")
    await put_solution(a, org)
    site = "https://loja.example"
    created = await a.post("/keys/publishable", json={"name": "site", "allowedOrigins": [site]}, headers=org.headers)
    headers = {"X-API-Key": created.json()["key"], "Origin": site}
    assert (await b.post("/token", json=token_body(org.org_id), headers=headers)).status_code == 200
    assert (await a.delete(f"/keys/publishable/{created.json()['id']}", headers=org.headers)).status_code == 200
    assert (await b.post("/token", json=token_body(org.org_id), headers=headers)).status_code == 401


async def _until(condition: Any, within: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not within the deadline"
        await asyncio.sleep(0.01)


async def _minted_by_b(
    apps: list[tuple[FastAPI, httpx.AsyncClient]],
) -> tuple[httpx.AsyncClient, Org, dict[str, str], str, CredentialCache]:
    """A device key made through A and minted once through B: (B's client, org, headers, key prefix, B's cache)."""
    (_, a), (app_b, b) = apps
    org, device = await _device_key(a)
    headers, prefix = {"X-API-Key": device["api_key"]}, device["api_key"][:15]
    assert (await b.post("/token", json=token_body(org.org_id), headers=headers)).status_code == 200
    return b, org, headers, prefix, credential_cache(app_b.state)


async def test_a_change_made_outside_the_api_reaches_the_cache(
    apps: list[tuple[FastAPI, httpx.AsyncClient]], db_pool: asyncpg.Pool
) -> None:
    """Revoked straight in the database (another tool, a migration): the trigger tells every process."""
    b, org, headers, prefix, cache_b = await _minted_by_b(apps)
    assert cache_b.get(prefix, time.monotonic()) is not None
    async with db_pool.acquire() as conn:
        await conn.execute("UPDATE devices SET revoked_at = now()")
    await _until(lambda: cache_b.get(prefix, time.monotonic()) is None)
    assert (await b.post("/token", json=token_body(org.org_id), headers=headers)).status_code == 401


async def test_the_cache_is_cleared_and_off_while_the_listener_is_down(
    apps: list[tuple[FastAPI, httpx.AsyncClient]], db_pool: asyncpg.Pool
) -> None:
    b, org, headers, prefix, cache_b = await _minted_by_b(apps)
    async with db_pool.acquire() as conn:
        listeners = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query ILIKE 'LISTEN%escuta_credentials%'"
        )
    assert listeners >= 2  # A's and B's (and any other app left on this database by an earlier test)
    await _until(lambda: not cache_b.listening)
    assert cache_b.get(prefix, 0.0) is None
    # While it is down nothing is cached, so a change nobody could announce is still seen at once.
    async with db_pool.acquire() as conn:
        await conn.execute("UPDATE devices SET revoked_at = now()")
    assert (await b.post("/token", json=token_body(org.org_id), headers=headers)).status_code == 401
    await cache_b.wait_ready()  # and it comes back by itself


async def test_cached_lookups_never_cross_tenants(apps: list[tuple[FastAPI, httpx.AsyncClient]]) -> None:
    """Two organizations, each with a device and a solution of the same name but another profile."""
    (_, a), (_, b) = apps
    org_x, dev_x = await _device_key(a, "X", profile="balcao")
    org_y, dev_y = await _device_key(a, "Y", profile="meeting_coach")
    for _ in range(2):  # the second round is served from B's caches
        for org, dev, profile in ((org_x, dev_x, "balcao"), (org_y, dev_y, "meeting_coach")):
            claims = _claims(await b.post("/token", json=token_body(org.org_id), headers={"X-API-Key": dev["api_key"]}))
            assert claims["attributes"]["escuta.org_id"] == org.org_id
            assert json.loads(claims["roomConfig"]["agents"][0]["metadata"])["profile"] == profile
    # X's key cannot mint for Y's organization, cached or not.
    r = await b.post("/token", json=token_body(org_y.org_id), headers={"X-API-Key": dev_x["api_key"]})
    assert r.status_code == 403


async def test_a_solution_change_reaches_the_other_process(apps: list[tuple[FastAPI, httpx.AsyncClient]]) -> None:
    (_, a), (_, b) = apps
    org, device = await _device_key(a, profile="balcao")
    headers = {"X-API-Key": device["api_key"]}

    async def profile() -> str:
        claims = _claims(await b.post("/token", json=token_body(org.org_id), headers=headers))
        found: str = json.loads(claims["roomConfig"]["agents"][0]["metadata"])["profile"]
        return found

    assert await profile() == "balcao"
    await put_solution(a, org, profile="meeting_coach")
    deadline = asyncio.get_running_loop().time() + 2.0  # the solution cache's own TTL is 5 s
    while await profile() != "meeting_coach":
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
