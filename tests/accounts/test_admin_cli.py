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
    again = await asyncio.to_thread(runner.invoke, admin_app, ["create-user", "root@escuta.dev"], env=env)
    assert "promoted" in again.output

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
