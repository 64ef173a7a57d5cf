"""`/health/worker` reports a live scheduler and its jobs, and a dead one as unhealthy (503)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx

from control_api.app import create_app
from jobs.scheduler import Job, Scheduler
from tests.clips.waiting import wait_for
from tests.conftest import make_settings


async def test_worker_health(db_pool: asyncpg.Pool, database_url: str) -> None:
    settings = make_settings(database_url=database_url, scheduler_dead_after_seconds=2.0)
    app = create_app(settings, pool=db_pool)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.get("/health/worker")
        assert r.status_code == 503 and r.json()["scheduler"]["alive"] is False  # never started

        async def boom() -> None:
            raise RuntimeError("provider down")

        async def fine() -> dict[str, int]:
            return {"clips_new": 3}

        jobs = [Job("test.fails", 60, boom), Job("test.works", 60, fine)]
        scheduler = Scheduler(db_pool, jobs, tick=0.05, lease=10, instance_id="health-test")
        stop = asyncio.Event()
        task = asyncio.create_task(scheduler.run(stop))

        async def both_ran() -> dict[str, Any] | None:
            body = (await client.get("/health/worker")).json()
            done = [j for j in body["jobs"] if j["last_status"] in ("ok", "error")]
            return body if len(done) == 2 and body["status"] == "ok" else None

        body = await wait_for(both_ran, what="both jobs to run")
        assert body is not None
        # Public: no host names (instance ids are hostname:pid) and no cross-tenant results (issue 14.7).
        assert body["scheduler"]["leader"] == "instance-1" and body["scheduler"]["alive"] is True
        assert [i["id"] for i in body["scheduler"]["instances"]] == ["instance-1"]
        assert "health-test" not in str(body) and "clips_new" not in str(body)
        jobs_by_name = {j["name"]: j for j in body["jobs"]}
        assert jobs_by_name["test.fails"]["last_status"] == "error"
        assert jobs_by_name["test.fails"]["last_error"] == "RuntimeError"  # public: the kind only
        admin = {"Authorization": f"Bearer {settings.api.admin_token.get_secret_value()}"}
        detailed = (await client.get("/health/worker", headers=admin)).json()
        assert {j["name"]: j["last_error"] for j in detailed["jobs"]}["test.fails"] == "RuntimeError: provider down"
        assert jobs_by_name["test.works"]["last_result"] is None
        assert detailed["scheduler"]["leader"] == "health-test"
        assert {j["name"]: j["last_result"] for j in detailed["jobs"]}["test.works"] == {"clips_new": 3}

        # A crash: the process stops heartbeating without saying goodbye.
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await db_pool.execute("UPDATE scheduler_instances SET stopped_at = NULL")

        async def dead() -> bool:
            return (await client.get("/health/worker")).status_code == 503

        await wait_for(dead, what="the scheduler to be reported dead")
        body = (await client.get("/health/worker")).json()
        assert body["status"] == "unhealthy" and body["scheduler"]["last_heartbeat_at"] is not None
