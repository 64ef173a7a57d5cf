"""`escuta admin create-user`: a platform admin user whose login opens the platform admin routes."""

from __future__ import annotations

import asyncpg
import httpx
from typer.testing import CliRunner

from escuta.admin_cli import admin_app
from escuta.cli import app as escuta_app

PASSWORD = "platform-admin-password"


async def test_create_user_and_use_it(client: httpx.AsyncClient, db_pool: asyncpg.Pool, database_url: str) -> None:
    import asyncio

    runner = CliRunner()
    env = {"ESCUTA_DATABASE_URL": database_url, "ESCUTA_ADMIN_PASSWORD": PASSWORD}
    # The command calls asyncio.run itself: run it off this test's event loop.
    # Through the real `escuta` command, as an operator types it.
    result = await asyncio.to_thread(runner.invoke, escuta_app, ["admin", "create-user", "root@escuta.dev"], env=env)
    assert result.exit_code == 0, result.output
    assert "created platform admin" in result.output
    again = await asyncio.to_thread(
        runner.invoke, admin_app, ["create-user", "root@escuta.dev", "--promote-existing"], env=env
    )
    assert again.exit_code == 0 and "promoted" in again.output

    r = await client.post("/auth/login", json={"email": "root@escuta.dev", "password": PASSWORD})
    assert r.status_code == 200, r.text
    headers = {"Authorization": f"Bearer {r.json()['accessToken']}"}
    me = (await client.get("/auth/me", headers=headers)).json()
    assert me["platformAdmin"] is True and me["organization"] is None
    r = await client.post(
        "/cadastro/cliente", json={"email": "c@x.com", "razao_social": "X", "telefone": "1"}, headers=headers
    )
    assert r.status_code == 200 and len(r.json()["codigo"]) == 6
    short = await asyncio.to_thread(
        runner.invoke,
        admin_app,
        ["create-user", "b@escuta.dev"],
        env={**env, "ESCUTA_ADMIN_PASSWORD": "short"},
    )
    assert short.exit_code != 0


async def test_create_user_refuses_an_existing_account(
    client: httpx.AsyncClient, db_pool: asyncpg.Pool, database_url: str
) -> None:
    """Issue 14: a squatter registers the e-mail the operator will use; create-user must not promote the
    squatter's account (keeping the squatter's password) unless told so explicitly."""
    import asyncio

    squatter = "squatter-password"
    r = await client.post(
        "/auth/register", json={"email": "ops@escuta.dev", "password": squatter, "organizationName": "Squat"}
    )
    assert r.status_code in (201, 202)
    runner = CliRunner()
    env = {"ESCUTA_DATABASE_URL": database_url, "ESCUTA_ADMIN_PASSWORD": PASSWORD}
    result = await asyncio.to_thread(runner.invoke, admin_app, ["create-user", "ops@escuta.dev"], env=env)
    assert result.exit_code != 0
    assert result.output.startswith("escuta: ") and "--promote-existing" in result.output
    assert result.output.count("\n") == 1  # one line saying why
    # The squatter's login is still not a platform admin.
    r = await client.post("/auth/login", json={"email": "ops@escuta.dev", "password": squatter})
    me = (await client.get("/auth/me", headers={"Authorization": f"Bearer {r.json()['accessToken']}"})).json()
    assert me["platformAdmin"] is False
