"""`/auth/*` (seed 002): register/login/refresh/logout/me, rotation with reuse detection, bad tokens."""

from __future__ import annotations

import time

import asyncpg
import httpx
import jwt
import pytest

from core.settings import Settings
from tests.accounts.helpers import PASSWORD, from_address, register
from tests.conftest import make_settings


async def test_full_cycle(client: httpx.AsyncClient) -> None:
    org = await register(client, "Clínica Azul")
    r = await client.get("/auth/me", headers=org.headers)
    assert r.status_code == 200
    me = r.json()
    assert me["email"] == org.email and me["role"] == "owner" and me["platformAdmin"] is False
    assert me["organization"] == {"id": org.org_id, "name": "Clínica Azul"}

    r = await client.post("/auth/login", json={"email": org.email.upper(), "password": PASSWORD})
    assert r.status_code == 200, r.text
    pair = r.json()
    assert pair["tokenType"] == "Bearer" and pair["expiresIn"] == 900
    access_exp = jwt.decode(pair["accessToken"], options={"verify_signature": False})["exp"]
    refresh_exp = jwt.decode(pair["refreshToken"], options={"verify_signature": False})["exp"]
    assert abs(access_exp - time.time() - 900) < 5 and abs(refresh_exp - time.time() - 30 * 86400) < 5
    assert (await client.get("/auth/me", headers={"Authorization": f"Bearer {pair['accessToken']}"})).status_code == 200

    r = await client.post("/auth/refresh", json={"refreshToken": pair["refreshToken"]})
    assert r.status_code == 200
    rotated = r.json()
    assert rotated["refreshToken"] != pair["refreshToken"]
    me2 = await client.get("/auth/me", headers={"Authorization": f"Bearer {rotated['accessToken']}"})
    assert me2.json()["organization"]["id"] == org.org_id

    r = await client.post("/auth/logout", json={"refreshToken": rotated["refreshToken"]})
    assert r.status_code == 200
    r = await client.post("/auth/refresh", json={"refreshToken": rotated["refreshToken"]})
    assert r.status_code == 401


async def test_wrong_password_and_duplicate_email(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    org = await register(client)
    r = await client.post("/auth/login", json={"email": org.email, "password": "wrong-password"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    r = await client.post("/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    # Signing up again with a taken e-mail creates nothing (and says nothing: see test_enumeration.py).
    r = await client.post(
        "/auth/register", json={"email": org.email, "password": "another password", "organizationName": "Again"}
    )
    assert r.status_code == 202
    async with db_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM organizations WHERE name = 'Again'") == 0
    r = await client.post("/auth/login", json={"email": org.email, "password": "another password"})
    assert r.status_code == 401
    r = await client.post("/auth/register", json={"email": "x@example.com", "organizationName": "No password"})
    assert r.status_code == 400 and "password" in r.json()["error"]["message"]


async def test_refresh_reuse_revokes_family(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    org = await register(client)
    first = org.refresh
    second = (await client.post("/auth/refresh", json={"refreshToken": first})).json()["refreshToken"]
    third = (await client.post("/auth/refresh", json={"refreshToken": second})).json()["refreshToken"]
    # A thief replays the first (already rotated) token: refused, and the live `third` dies with it.
    r = await client.post("/auth/refresh", json={"refreshToken": first})
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_reused"
    r = await client.post("/auth/refresh", json={"refreshToken": third})
    assert r.status_code == 401
    async with db_pool.acquire() as conn:
        live = await conn.fetchval("SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL")
    assert live == 0
    # Another login is a new family and works.
    r = await client.post("/auth/login", json={"email": org.email, "password": PASSWORD})
    assert (await client.post("/auth/refresh", json={"refreshToken": r.json()["refreshToken"]})).status_code == 200


async def test_expired_and_tampered_access_tokens(client: httpx.AsyncClient, settings: Settings) -> None:
    org = await register(client)
    claims = jwt.decode(org.access, options={"verify_signature": False})
    secret = settings.jwt.access_secret.get_secret_value()
    expired = jwt.encode({**claims, "iat": int(time.time()) - 2000, "exp": int(time.time()) - 1000}, secret)
    header, _payload, signature = org.access.split(".")
    forged_payload = jwt.encode({**claims, "role": "owner", "padm": True}, "x" * 32).split(".")[1]
    tampered = f"{header}.{forged_payload}.{signature}"
    wrong_key = jwt.encode(claims, "not-the-secret-but-just-as-long-as-one")
    refresh_as_access = org.refresh
    for token in (expired, tampered, wrong_key, refresh_as_access, "garbage"):
        r = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token
        assert r.headers["www-authenticate"] == "Bearer"
    assert (await client.get("/auth/me")).status_code == 401


async def test_login_rate_limited(client: httpx.AsyncClient) -> None:
    org = await register(client)
    statuses = []
    for _ in range(7):
        r = await client.post("/auth/login", json={"email": org.email, "password": "wrong-password"})
        statuses.append(r.status_code)
    assert statuses[:5] == [401] * 5  # ESCUTA_RATE_LIMIT_LOGIN_FAILURES: 5 per 15 minutes per account+address
    assert statuses[5:] == [429, 429]
    assert 1 <= int(r.headers["retry-after"]) <= 900
    assert r.json()["error"]["code"] == "rate_limited" and r.headers["content-type"] == "application/json"


async def test_login_limited_per_source_address(db_pool: asyncpg.Pool, database_url: str) -> None:
    """A different e-mail on every try (credential stuffing from one address) still hits the address limit."""
    from control_api.app import create_app

    app = create_app(make_settings(database_url=database_url, rate_limit_login="3/hour"), pool=db_pool)
    emails = [f"victim-{i}@example.com" for i in range(5)]
    async with from_address(app, "198.51.100.7") as c:
        statuses = []
        for email in emails[:4]:
            r = await c.post("/auth/login", json={"email": email, "password": "guess"})
            statuses.append(r.status_code)
        assert statuses == [401, 401, 401, 429]
        assert r.json()["error"]["code"] == "rate_limited" and 1 <= int(r.headers["retry-after"]) <= 3600
        # A fifth, never-tried e-mail is refused too, and a forged X-Forwarded-For buys no fresh budget.
        r = await c.post("/auth/login", json={"email": emails[4], "password": "guess"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        forged = {"X-Forwarded-For": "203.0.113.50"}
        r = await c.post("/auth/login", json={"email": emails[4], "password": "guess"}, headers=forged)
        assert r.status_code == 429
    async with from_address(app, "198.51.100.8") as c:
        # The same e-mails from another address are judged normally: the limit was the address's.
        r = await c.post("/auth/login", json={"email": emails[3], "password": "guess"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"


async def test_victim_is_not_locked_out_by_an_attacker_elsewhere(db_pool: asyncpg.Pool, database_url: str) -> None:
    """Issue 14.5: before, 10 wrong passwords from anywhere locked the account's owner out. Now an attacker
    spending many addresses on one account is bounded per address, and the owner, with the right password
    from their own address, gets in."""
    from control_api.app import create_app

    app = create_app(make_settings(database_url=database_url), pool=db_pool)
    async with from_address(app, "10.0.0.1") as c:
        org = await register(c)
    for i in range(1, 5):
        async with from_address(app, f"203.0.113.{i}") as c:
            statuses = []
            for _ in range(7):
                r = await c.post("/auth/login", json={"email": org.email, "password": "wrong-password"})
                statuses.append(r.status_code)
            # Each address gets its 5 guesses at this account, then waits (the right password too).
            assert statuses == [401] * 5 + [429, 429], statuses
            r = await c.post("/auth/login", json={"email": org.email.upper(), "password": PASSWORD})
            assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    async with from_address(app, "192.0.2.10") as c:
        # 20 wrong passwords later, the owner logs in from home at once.
        r = await c.post("/auth/login", json={"email": org.email, "password": PASSWORD})
        assert r.status_code == 200, r.text
    async with from_address(app, "10.0.0.1") as c:
        r = await c.post("/auth/login", json={"email": org.email, "password": PASSWORD})
        assert r.status_code == 200, r.text


async def test_passwords_are_argon2(client: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    org = await register(client)
    async with db_pool.acquire() as conn:
        stored = await conn.fetchval("SELECT password_hash FROM users WHERE email = $1", org.email)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


async def test_register_rate_limited(client: httpx.AsyncClient) -> None:
    for i in range(10):
        await register(client, f"Org {i}")
    r = await client.post(
        "/auth/register", json={"email": "one-more@example.com", "password": PASSWORD, "organizationName": "X"}
    )
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


def test_seed_002_env_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_ACCESS_TTL", "120")
    monkeypatch.setenv("JWT_REFRESH_TTL", "3600")
    monkeypatch.setenv("JWT_ACCESS_SECRET", "a" * 40)
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (s.jwt.access_ttl, s.jwt.refresh_ttl) == (120, 3600)
    assert s.jwt.access_secret.get_secret_value() == "a" * 40
