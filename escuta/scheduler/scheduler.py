"""A generic periodic-job scheduler that is safe to run in several processes at once.

Leadership is a lease row in PostgreSQL (``scheduler_lease``), not an in-memory flag: every tick each
process upserts the row, and only succeeds if it already holds it or the holder's lease ran out. A
crashed or frozen leader stops renewing, so another process takes over at most ``lease`` seconds later.

The leader then *claims* each due job with one conditional UPDATE that moves ``next_run_at`` forward,
guarded by the lease in the same statement: two leaders cannot both claim a run even during a
hand-over, and a new leader does not re-run a job that the old one ran a moment ago. While a run
executes, a session advisory lock on the job keeps a slow run of a deposed leader from overlapping the
next one. Other issues add jobs by appending `Job`s (see ``escuta/scheduler/jobs.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from escuta.events import log_event

log = logging.getLogger("escuta.scheduler")

LEASE_NAME = "scheduler"
RUN_HISTORY = "7 days"
# What a lost or restarting database looks like from asyncpg.
DB_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)

JobResult = dict[str, Any] | None


@dataclass(frozen=True)
class Job:
    """A named coroutine run every ``interval`` seconds by the leader. Its result is stored as JSON."""

    name: str
    interval: float
    run: Callable[[], Awaitable[JobResult]]


def new_instance_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _job_lock_key(name: str) -> int:
    # A stable signed 64-bit advisory-lock key per job name, in its own namespace.
    return int.from_bytes(hashlib.sha256(f"escuta.job.{name}".encode()).digest()[:8], "big", signed=True)


_ACQUIRE_LEASE = """
INSERT INTO scheduler_lease AS l (name, holder, expires_at)
VALUES ($1, $2, now() + make_interval(secs => $3))
ON CONFLICT (name) DO UPDATE
   SET holder      = EXCLUDED.holder,
       term        = CASE WHEN l.holder = EXCLUDED.holder THEN l.term ELSE l.term + 1 END,
       acquired_at = CASE WHEN l.holder = EXCLUDED.holder THEN l.acquired_at ELSE now() END,
       renewed_at  = now(),
       expires_at  = EXCLUDED.expires_at
 WHERE l.holder = EXCLUDED.holder OR l.expires_at < now()
RETURNING term
"""

_CLAIM = """
WITH claimed AS (
    UPDATE scheduler_jobs j
       SET next_run_at = now() + make_interval(secs => j.interval_seconds),
           last_started_at = now(), last_status = 'running', last_run_by = $2, runs = j.runs + 1
     WHERE j.name = $1 AND j.next_run_at <= now()
       AND EXISTS (SELECT 1 FROM scheduler_lease l
                    WHERE l.name = $3 AND l.holder = $2 AND l.expires_at > now())
    RETURNING j.name, j.last_started_at
)
INSERT INTO scheduler_runs (job, run_by, term, started_at, status)
SELECT name, $2, $4, last_started_at, 'running' FROM claimed
RETURNING id
"""

# On taking over, runs left 'running' by schedulers that stopped heartbeating will never finish.
_ABANDON = """
WITH dead AS (
    UPDATE scheduler_runs r SET status = 'error', finished_at = now(),
           error = 'abandoned: its scheduler stopped heartbeating'
     WHERE r.status = 'running' AND r.run_by <> $1
       AND NOT EXISTS (SELECT 1 FROM scheduler_instances i
                        WHERE i.id = r.run_by AND i.stopped_at IS NULL
                          AND i.heartbeat_at > now() - make_interval(secs => $2))
    RETURNING r.job, r.error
)
UPDATE scheduler_jobs j SET last_status = 'error', last_error = dead.error, last_finished_at = now(),
       failures = j.failures + 1
  FROM dead WHERE j.name = dead.job AND j.last_status = 'running'
"""


class Scheduler:
    def __init__(
        self,
        pool: asyncpg.Pool,
        jobs: Sequence[Job],
        *,
        tick: float,
        lease: float,
        instance_id: str | None = None,
    ) -> None:
        if lease <= tick:
            raise ValueError("the lease must be longer than the tick")
        names = [j.name for j in jobs]
        if len(set(names)) != len(names):
            raise ValueError("job names must be unique")
        self.pool = pool
        self.jobs = list(jobs)
        self.tick_seconds = tick
        self.lease_seconds = lease
        self.instance_id = instance_id or new_instance_id()
        self.term: int | None = None  # set while leader
        self._running: dict[str, asyncio.Task[None]] = {}
        self._elected = False

    @property
    def is_leader(self) -> bool:
        return self.term is not None

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until ``stop`` is set, then release the lease so a follower takes over at once."""
        await self._register()
        log_event(log, logging.INFO, "scheduler_started", instance=self.instance_id, jobs=[j.name for j in self.jobs])
        try:
            while not stop.is_set():
                await self.tick()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.tick_seconds)
        finally:
            await self._shutdown()

    async def _register(self) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                """
                INSERT INTO scheduler_instances (id, hostname, pid) VALUES ($1, $2, $3)
                ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), stopped_at = NULL
                """,
                self.instance_id,
                socket.gethostname(),
                os.getpid(),
            )
            for job in self.jobs:
                await conn.execute(
                    """
                    INSERT INTO scheduler_jobs (name, interval_seconds) VALUES ($1, $2)
                    ON CONFLICT (name) DO UPDATE SET interval_seconds = EXCLUDED.interval_seconds
                    """,
                    job.name,
                    job.interval,
                )

    async def tick(self) -> None:
        """One heartbeat: renew or take the lease, then start every due job this process may run."""
        try:
            async with self.pool.acquire() as conn:
                await conn.execute(
                    "UPDATE scheduler_instances SET heartbeat_at = now() WHERE id = $1", self.instance_id
                )
                term = await conn.fetchval(_ACQUIRE_LEASE, LEASE_NAME, self.instance_id, self.lease_seconds)
                self._set_term(term)
                if term is None:
                    return
                if self._elected:
                    self._elected = False
                    await conn.execute(_ABANDON, self.instance_id, self.lease_seconds)
                for job in self.jobs:
                    if job.name in self._running:
                        continue  # still running: the claim waits until it finishes
                    run_id = await conn.fetchval(_CLAIM, job.name, self.instance_id, LEASE_NAME, term)
                    if run_id is not None:
                        task = asyncio.create_task(self._execute(job, run_id), name=f"job:{job.name}")
                        self._running[job.name] = task
                        task.add_done_callback(self._forget)
        except DB_ERRORS as exc:
            # Without the database we cannot know whether we still lead: act as a follower.
            self._set_term(None)
            log_event(
                log, logging.WARNING, "scheduler_tick_failed", instance=self.instance_id, error=type(exc).__name__
            )

    def _forget(self, task: asyncio.Task[None]) -> None:
        for name, t in list(self._running.items()):
            if t is task:
                del self._running[name]

    def _set_term(self, term: int | None) -> None:
        if term is not None and self.term != term:
            log_event(log, logging.INFO, "scheduler_leader_elected", instance=self.instance_id, term=term)
            self._elected = True
        elif term is None and self.term is not None:
            log_event(log, logging.WARNING, "scheduler_leadership_lost", instance=self.instance_id, term=self.term)
        self.term = term

    async def _execute(self, job: Job, run_id: int) -> None:
        status, error, result = "ok", None, None
        async with self.pool.acquire() as lock_conn:
            got = await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", _job_lock_key(job.name))
            try:
                if not got:
                    status, error = "skipped", "a previous run of this job is still going"
                else:
                    result = await job.run()
            except asyncio.CancelledError:
                status, error = "error", "cancelled (scheduler stopping)"
                raise
            except Exception as exc:
                status, error = "error", f"{type(exc).__name__}: {exc}"[:500]
                log.exception("scheduler_job_failed job=%s", job.name, extra={"event": "scheduler_job_failed"})
            finally:
                if got:
                    await lock_conn.execute("SELECT pg_advisory_unlock($1)", _job_lock_key(job.name))
                try:
                    await self._record(job, run_id, status, error, result)
                except DB_ERRORS:
                    # The run happened; only its record is lost. The next leader marks it abandoned.
                    log_event(log, logging.WARNING, "scheduler_run_not_recorded", job=job.name, run_id=run_id)

    async def _record(self, job: Job, run_id: int, status: str, error: str | None, result: JobResult) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """
                UPDATE scheduler_runs SET finished_at = now(), status = $2, error = $3, result = $4
                 WHERE id = $1
                """,
                run_id,
                status,
                error,
                result,
            )
            await conn.execute(
                """
                UPDATE scheduler_jobs
                   SET last_finished_at = now(), last_status = $2, last_error = $3, last_result = $4,
                       failures = failures + (CASE WHEN $2 = 'error' THEN 1 ELSE 0 END)
                 WHERE name = $1
                """,
                job.name,
                status,
                error,
                result,
            )
            await conn.execute(
                f"DELETE FROM scheduler_runs WHERE job = $1 AND started_at < now() - interval '{RUN_HISTORY}'",
                job.name,
            )
        log_event(log, logging.INFO, "scheduler_job_finished", job=job.name, status=status, run_id=run_id)

    async def _shutdown(self) -> None:
        for task in list(self._running.values()):
            task.cancel()
        for task in list(self._running.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(*DB_ERRORS):
            async with self.pool.acquire() as conn:
                await conn.execute(
                    "UPDATE scheduler_lease SET expires_at = now() WHERE name = $1 AND holder = $2",
                    LEASE_NAME,
                    self.instance_id,
                )
                await conn.execute("UPDATE scheduler_instances SET stopped_at = now() WHERE id = $1", self.instance_id)
        self.term = None
        log_event(log, logging.INFO, "scheduler_stopped", instance=self.instance_id)
