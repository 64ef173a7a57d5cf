"""Agent workers' heartbeats in PostgreSQL: a row appears, is shown (count and load; labels only to the
platform admin), and ages out after three intervals; the worker starts the task itself when it runs."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx
import pytest

from agents import worker
from agents.heartbeat import WorkerHeartbeat
from control_api.app import create_app
from control_api.console.session import ACCESS_COOKIE
from core.settings import Settings
from db import agent_workers as repo
from tests.accounts.helpers import register
from tests.conftest import TEST_ADMIN_TOKEN, make_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url=database_url, worker_heartbeat_seconds=0.5)


async def test_a_heartbeat_row_appears_and_ages_out(settings: Settings, db_pool: asyncpg.Pool) -> None:
    app = create_app(settings, pool=db_pool)
    hb = WorkerHeartbeat(settings, profiles=["meeting_coach", "balcao"], load=lambda: 0.42, jobs=lambda: 3)
    assert await hb.beat_once()
    async with db_pool.acquire() as conn:
        _, rows = await repo.live(conn, settings.worker.dead_after_seconds)
    [row] = rows
    assert (row["id"], row["label"], row["jobs"], list(row["profiles"])) == (
        hb.worker_id,
        hb.label,
        3,
        ["balcao", "meeting_coach"],
    )
    assert row["load"] == pytest.approx(0.42) and hb.label.startswith("escuta-")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        anonymous = (await client.get("/health/worker")).json()["agent_workers"]
        assert (anonymous["live"], anonymous["jobs"], anonymous["mean_load"]) == (1, 3, 0.42)
        assert anonymous["workers"][0]["id"] == "worker-1" and hb.label not in str(anonymous)
        admin = await client.get("/health/worker", headers={"Authorization": f"Bearer {TEST_ADMIN_TOKEN}"})
        assert admin.json()["agent_workers"]["workers"][0]["id"] == hb.label
        # The console's service status: the live workers, their rooms and load (numbered for a member).
        org = await register(client)
        client.cookies.set(ACCESS_COOKIE, org.access)
        assert await hb.beat_once()  # signing up may take longer than the three short intervals
        live = await client.get("/console/")
        assert live.status_code == 200
        assert 'id="agent-workers">1 (Salas: 3, carga média: 42%)' in live.text
        assert "worker-1: 42%, 3 salas" in live.text and hb.label not in live.text

        # Silence for three intervals after the last beat: gone.
        await asyncio.sleep(settings.worker.dead_after_seconds + 0.1)
        async with db_pool.acquire() as conn:
            assert (await repo.live(conn, settings.worker.dead_after_seconds))[1] == []
            assert await conn.fetchval("SELECT count(*) FROM agent_workers") == 1  # kept, just not live
        gone = (await client.get("/health/worker")).json()["agent_workers"]
        assert (gone["live"], gone["workers"], gone["mean_load"]) == (0, [], None)
        assert 'id="agent-workers">0</dd>' in (await client.get("/console/")).text
    await hb._leave()


async def test_a_database_that_is_down_costs_a_warning_not_the_worker(caplog: pytest.LogCaptureFixture) -> None:
    down = make_settings(database_url="postgresql://postgres@127.0.0.1:1/nowhere", db_connect_timeout=1)
    hb = WorkerHeartbeat(down, profiles=[], load=lambda: 0.0, jobs=lambda: 0)
    assert await hb.beat_once() is False
    assert "worker heartbeat not recorded" in caplog.text and hb.beats == 0


async def test_the_worker_starts_its_heartbeat_when_it_runs(settings: Settings, db_pool: asyncpg.Pool) -> None:
    # No LiveKit server: `unregistered` runs the worker's loop without connecting (no idle job process).
    s = make_settings(
        database_url=settings.db.url, worker_heartbeat_seconds=0.25, worker_num_idle_processes=0, worker_http_port=0
    )
    server = worker.build_server(s)
    run = asyncio.create_task(server.run(unregistered=True))
    try:
        deadline = time.monotonic() + 20
        rows: list[asyncpg.Record] = []
        while not rows and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            assert not run.done(), run
            async with db_pool.acquire() as conn:
                rows = (await repo.live(conn, s.worker.dead_after_seconds))[1]
        [row] = rows
        assert row["jobs"] == 0 and "meeting_coach" in row["profiles"] and row["livekit_worker_id"] is None
    finally:
        await server.aclose()
        await run
    heartbeats = [t for t in asyncio.all_tasks() if t.get_name() == "escuta-worker-heartbeat"]
    for t in heartbeats:
        t.cancel()
    await asyncio.gather(*heartbeats, return_exceptions=True)
    async with db_pool.acquire() as conn:  # a clean stop removes the row at once
        assert await conn.fetchval("SELECT count(*) FROM agent_workers") == 0
