"""Run the scheduler as a process (`escuta jobs`) until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Sequence

import asyncpg

from core.settings import ConfigError, Settings
from db.pool import create_pool
from jobs.scheduler import Job, Scheduler

JobFactory = Callable[[Settings, asyncpg.Pool], Sequence[Job]]


async def serve(settings: Settings, *, jobs: JobFactory | None = None, stop: asyncio.Event | None = None) -> None:
    if not settings.db.url:
        raise ConfigError("ESCUTA_DATABASE_URL is not set (or use `escuta run`, which starts an embedded database)")
    if jobs is None:
        from jobs.registry import default_jobs

        jobs = default_jobs
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    pool = await create_pool(settings.db.url, settings)
    try:
        scheduler = Scheduler(
            pool,
            jobs(settings, pool),
            tick=settings.scheduler.tick_seconds,
            lease=settings.scheduler.lease_seconds,
        )
        await scheduler.run(stop)
    finally:
        await pool.close()


def run_jobs(settings: Settings) -> int:
    asyncio.run(serve(settings))
    return 0
