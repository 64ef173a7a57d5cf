"""The agent worker's heartbeat in PostgreSQL (`agent_workers`, migration 0140).

LiveKit does not tell the control plane which workers are registered with it, so each `escuta worker`
process records itself: a random id, a label without the hostname (`<agent name>-<8 hex>`), the
profiles it can run, its load and running jobs, every ``ESCUTA_WORKER_HEARTBEAT_SECONDS``. It runs as a
task in the worker's main process (the one that talks to LiveKit), never in a job process, so it is off
the audio path; a database that is down costs a warning per beat, never the worker. A worker stopped
cleanly deletes its row; one that crashed ages out after three intervals.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from uuid import UUID, uuid4

import asyncpg

from core.settings import Settings
from db import agent_workers as repo

log = logging.getLogger("escuta.worker.heartbeat")


def profile_names() -> list[str]:
    """The profiles this worker can run (the built-in ones, registered on import). Call it on the main
    thread before the worker's loop starts: livekit plugins register on import, on the main thread only."""
    from agents.profiles import PROFILES, builtin  # noqa: F401

    return sorted(PROFILES)


class WorkerHeartbeat:
    def __init__(
        self,
        settings: Settings,
        *,
        profiles: Sequence[str],
        load: Callable[[], float],
        jobs: Callable[[], int],
        livekit_id: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.worker_id: UUID = uuid4()
        self.label = f"{settings.worker.agent_name or 'worker'}-{self.worker_id.hex[:8]}"
        self._profiles = sorted(profiles)
        self._load, self._jobs, self._livekit_id = load, jobs, livekit_id
        self._pool: asyncpg.Pool | None = None
        self.beats = 0
        self.task: asyncio.Task[None] | None = None  # set by whoever starts `run` (agents/worker.py)

    def snapshot(self) -> repo.Beat:
        return repo.Beat(
            worker_id=self.worker_id,
            label=self.label,
            agent_name=self.settings.worker.agent_name,
            profiles=self._profiles,
            livekit_worker_id=self._livekit_id(),
            load=round(min(1.0, max(0.0, self._load())), 3),
            jobs=self._jobs(),
        )

    async def beat_once(self) -> bool:
        """Record one heartbeat; False (and a warning naming only the error's kind) if the database failed."""
        try:
            if self._pool is None:
                from db.pool import create_pool

                assert self.settings.db.url, "agents/worker.py starts the heartbeat only with a database URL"
                self._pool = await create_pool(self.settings.db.url, self.settings, min_size=0, max_size=1)
            async with self._pool.acquire() as conn:
                await repo.beat(conn, self.snapshot())
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("worker heartbeat not recorded (%s); next try in %.0f s", type(exc).__name__, self.interval)
            return False
        self.beats += 1
        return True

    @property
    def interval(self) -> float:
        return self.settings.worker.heartbeat_seconds

    async def run(self) -> None:
        """Beat every interval until cancelled; then remove the row (best effort) and close the pool."""
        try:
            while True:
                await self.beat_once()
                await asyncio.sleep(self.interval)
        finally:
            await asyncio.shield(self._leave())

    async def _leave(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            async with asyncio.timeout(2):
                async with pool.acquire() as conn:
                    await repo.remove(conn, self.worker_id)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("worker heartbeat row not removed (%s); it ages out", type(exc).__name__)
        finally:
            pool.terminate()
