"""Which failures are "the database is unreachable" (503 with Retry-After) and which are bugs (500)."""

from __future__ import annotations

import httpx
import pytest

from control_api.app import create_app
from control_api.errors import database_unreachable
from core.settings import Settings
from db.pool import create_pool
from tests.accounts.helpers import register


async def test_an_exhausted_pool_answers_503_with_retry_after(
    settings: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch, client: httpx.AsyncClient
) -> None:
    org = await register(client)  # on the shared pool (the client fixture)
    pool = await create_pool(database_url, settings, min_size=1, max_size=1)
    monkeypatch.setattr("db.tenancy.ACQUIRE_TIMEOUT_SECONDS", 0.2)
    try:
        app = create_app(settings, pool=pool)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as own:
            assert (await own.get("/solutions", headers=org.headers)).status_code == 200
            async with pool.acquire():  # the only connection, held (as by a query stuck on a dead server)
                r = await own.get("/solutions", headers=org.headers)
            assert r.status_code == 503 and r.headers["retry-after"].isdigit()
            assert r.json()["error"]["code"] == "database_unavailable"
            assert (await own.get("/solutions", headers=org.headers)).status_code == 200
    finally:
        await pool.close()


def test_a_timeout_outside_the_driver_is_a_bug() -> None:
    assert not database_unreachable(TimeoutError("a provider call"))
    assert not database_unreachable(OSError("disk full"))
    assert not database_unreachable(RuntimeError("bug"))
