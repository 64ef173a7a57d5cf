"""Issue 14.5: limits shared by every API process, source addresses that cannot be forged, 429 shape,
and device registration that an attacker cannot block for an organization's own admin."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from fastapi import FastAPI
from starlette.requests import Request

from control_api.abuse import client_address
from control_api.app import create_app
from tests.accounts.helpers import from_address, register
from tests.conftest import make_settings


async def test_two_api_processes_share_one_login_budget(db_pool: asyncpg.Pool, database_url: str) -> None:
    """Before: each process counted alone (ESCUTA_API_WORKERS=2 doubled every limit)."""
    second_pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        one = create_app(make_settings(database_url=database_url), pool=db_pool)
        two = create_app(make_settings(database_url=database_url), pool=second_pool)
        async with from_address(one, "10.0.0.1") as c:
            org = await register(c)
        statuses = []
        for i in range(7):
            async with from_address(one if i % 2 == 0 else two, "203.0.113.9") as c:
                r = await c.post("/auth/login", json={"email": org.email, "password": "wrong"})
                statuses.append(r.status_code)
        assert statuses == [401] * 5 + [429, 429]  # 5 per account and address, whichever process answers
    finally:
        await second_pool.close()


def _request(app: FastAPI, peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    scope: dict[str, Any] = {"type": "http", "app": app, "client": (peer, 1234), "headers": headers}
    return Request(scope)


def test_forwarded_for_is_read_only_from_configured_proxies(database_url: str) -> None:
    default = create_app(make_settings(database_url=database_url))
    assert client_address(_request(default, "127.0.0.1", "203.0.113.5")) == "127.0.0.1"  # before: 203.0.113.5
    proxied = create_app(make_settings(database_url=database_url, trusted_proxies=["10.9.0.0/16", "127.0.0.1"]))
    assert client_address(_request(proxied, "10.9.0.1", "203.0.113.5")) == "203.0.113.5"
    # Entries left of the first untrusted hop were written by the client: ignored.
    assert client_address(_request(proxied, "10.9.0.1", "6.6.6.6, 203.0.113.5, 10.9.0.7")) == "203.0.113.5"
    assert client_address(_request(proxied, "10.9.0.1", "not-an-ip, 203.0.113.5")) == "203.0.113.5"
    assert client_address(_request(proxied, "198.51.100.1", "203.0.113.5")) == "198.51.100.1"  # not a proxy
    assert client_address(_request(proxied, "10.9.0.1", None)) == "10.9.0.1"


async def test_forwarded_for_from_an_unconfigured_peer_buys_no_budget(db_pool: asyncpg.Pool, database_url: str) -> None:
    settings = make_settings(database_url=database_url, rate_limit_login="2/hour", trusted_proxies=["10.9.0.1"])
    app = create_app(settings, pool=db_pool)
    body = {"email": "x@example.com", "password": "guess"}
    async with from_address(app, "127.0.0.1") as c:  # a local peer, but not a configured proxy
        statuses = [
            (await c.post("/auth/login", json=body, headers={"X-Forwarded-For": f"203.0.113.{i}"})).status_code
            for i in range(3)
        ]
        assert statuses == [401, 401, 429]
    async with from_address(app, "10.9.0.1") as proxy:  # the configured proxy names each client
        for client in ("203.0.113.1", "203.0.113.2"):
            r = await proxy.post("/auth/login", json=body, headers={"X-Forwarded-For": client})
            assert r.status_code == 401
        statuses = [
            (await proxy.post("/auth/login", json=body, headers={"X-Forwarded-For": "203.0.113.1"})).status_code
            for _ in range(2)
        ]
        assert statuses == [401, 429]


async def test_429_is_json_with_retry_after(db_pool: asyncpg.Pool, database_url: str) -> None:
    app = create_app(make_settings(database_url=database_url, rate_limit_login="1/hour"), pool=db_pool)
    async with from_address(app, "198.51.100.20") as c:
        await c.post("/auth/login", json={"email": "a@example.com", "password": "guess"})
        r = await c.post("/auth/login", json={"email": "a@example.com", "password": "guess"})
    assert r.status_code == 429 and r.headers["content-type"] == "application/json"
    assert 1 <= int(r.headers["retry-after"]) <= 3600
    assert r.json() == {"error": {"code": "rate_limited", "message": "too many requests; retry later"}}


async def test_guessing_cannot_block_an_organizations_own_admin(db_pool: asyncpg.Pool, database_url: str) -> None:
    """Before: 200 wrong codes from 40 addresses blocked every registration platform-wide. The wrong-code
    budget is still global (it is what bounds a botnet), but an owner/admin registering with their own
    access token guesses nothing and is not stopped by it."""
    settings = make_settings(database_url=database_url, rate_limit_link_code_global_failures="3/hour")
    app = create_app(settings, pool=db_pool)
    async with from_address(app, "10.0.0.1") as c:
        org = await register(c, "A")
        other = await register(c, "B")
        code = (await c.post("/cadastro/codigo", headers=org.headers)).json()["codigo"]
    for i in range(1, 5):
        async with from_address(app, f"203.0.113.{i}") as c:
            guess = f"{(int(code) + i) % 1_000_000:06d}"
            await c.post("/cadastro/balcao", json={"nome_balcao": "x", "user_codigo": guess})
    async with from_address(app, "192.0.2.50") as c:
        r = await c.post("/cadastro/balcao", json={"nome_balcao": "Balcão 1", "user_codigo": code})
        assert r.status_code == 429  # anonymous: waits like everyone while the budget is spent
        # Another organization's admin cannot use the bypass to try A's code...
        r = await c.post(
            "/cadastro/balcao", json={"nome_balcao": "Balcão 1", "user_codigo": code}, headers=other.headers
        )
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_link_code"
        # ...A's own admin registers at once.
        r = await c.post("/cadastro/balcao", json={"nome_balcao": "Balcão 1", "user_codigo": code}, headers=org.headers)
        assert r.status_code == 200 and r.json()["api_key"].startswith("bk_")
    async with from_address(app, "192.0.2.51") as c:
        assert (await c.post("/cadastro/balcao", json={"nome_balcao": "x", "user_codigo": code})).status_code == 429


async def test_a_burst_of_concurrent_guesses_gets_no_more_than_the_budget(
    db_pool: asyncpg.Pool, database_url: str
) -> None:
    """The failure budget is spent before a guess is judged: 20 guesses at once from 20 addresses, with a
    platform budget of 5, get exactly 5 answers and 15 refusals (checking first and counting after let
    a burst through: every request passed the check before any failure was counted)."""
    settings = make_settings(database_url=database_url, rate_limit_link_code_global_failures="5/hour")
    app = create_app(settings, pool=db_pool)
    async with from_address(app, "10.0.0.1") as c:
        org = await register(c, "A")
        code = (await c.post("/cadastro/codigo", headers=org.headers)).json()["codigo"]

    async def guess(i: int) -> int:
        async with from_address(app, f"198.51.100.{i}") as c:
            wrong = f"{(int(code) + i) % 1_000_000:06d}"
            return (await c.post("/cadastro/balcao", json={"nome_balcao": "x", "user_codigo": wrong})).status_code

    statuses = await asyncio.gather(*(guess(i) for i in range(1, 21)))
    assert sorted(statuses) == [400] * 5 + [429] * 15
    async with from_address(app, "192.0.2.60") as c:  # right codes are refunded, wrong ones are not
        assert (await c.post("/cadastro/balcao", json={"nome_balcao": "y", "user_codigo": code})).status_code == 429


async def test_invitations_per_organization_are_limited(db_pool: asyncpg.Pool, database_url: str) -> None:
    """With SMTP on, each invitation is an e-mail: an organization cannot send them in bulk."""
    app = create_app(make_settings(database_url=database_url, rate_limit_invitations="2/hour"), pool=db_pool)
    async with from_address(app, "10.0.0.1") as c:
        a, b = await register(c, "A"), await register(c, "B")
        statuses = [
            (
                await c.post("/members", json={"email": f"p{i}@example.com", "role": "member"}, headers=a.headers)
            ).status_code
            for i in range(3)
        ]
        assert statuses == [201, 201, 429]
        r = await c.post("/members", json={"email": "q@example.com", "role": "member"}, headers=b.headers)
        assert r.status_code == 201  # per organization
