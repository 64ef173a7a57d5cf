"""Two schedulers on one database: one run per interval, never two at once (the killed-leader case is
in test_jobs_process.py, with real `escuta jobs` processes)."""

from __future__ import annotations

import asyncio
import itertools
import time

import asyncpg

from db.pool import create_pool
from jobs.scheduler import Job, Scheduler
from tests.clips.waiting import wait_for


async def _ok_runs(pool: asyncpg.Pool, job: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT run_by, started_at, finished_at, status FROM scheduler_runs WHERE job = $1 ORDER BY started_at",
        job,
    )


async def test_two_schedulers_run_a_job_once_per_interval(db_pool: asyncpg.Pool, database_url: str) -> None:
    interval = 0.5
    seen: list[tuple[str, float, float]] = []

    def make(instance: str) -> Job:
        async def work() -> dict[str, str]:
            start = time.monotonic()
            await asyncio.sleep(0.05)
            seen.append((instance, start, time.monotonic()))
            return {"by": instance}

        return Job("test.count", interval, work)

    pools = [await create_pool(database_url, min_size=1, max_size=4) for _ in range(2)]
    stop = asyncio.Event()
    schedulers = [Scheduler(p, [make(f"s{i}")], tick=0.05, lease=10, instance_id=f"s{i}") for i, p in enumerate(pools)]
    tasks = [asyncio.create_task(s.run(stop)) for s in schedulers]
    try:
        await wait_for(
            lambda: _count(db_pool, "SELECT count(*) >= 5 FROM scheduler_runs WHERE status = 'ok'"),
            what="five runs",
        )
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for p in pools:
            await p.close()

    runs = [r for r in await _ok_runs(db_pool, "test.count") if r["status"] == "ok"]
    assert len(runs) == len(seen)  # every claimed run ran once, in exactly one process
    for before, after in itertools.pairwise(runs):
        assert (after["started_at"] - before["started_at"]).total_seconds() >= interval
    ordered = sorted(seen, key=lambda s: s[1])
    for before_run, after_run in itertools.pairwise(ordered):
        assert after_run[1] >= before_run[2], "two runs overlapped"


async def _count(pool: asyncpg.Pool, sql: str, *args: object) -> bool:
    return bool(await pool.fetchval(sql, *args))
