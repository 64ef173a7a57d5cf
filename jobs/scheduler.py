"""A generic periodic-job scheduler that is safe to run in several processes at once.

Leadership is a lease row in PostgreSQL (``scheduler_lease``), not an in-memory flag: every tick each
process upserts the row, and only succeeds if it already holds it or the holder's lease ran out. A
crashed or frozen leader stops renewing, so another process takes over at most ``lease`` seconds later.

The leader then *claims* each due job with one conditional UPDATE that moves ``next_run_at`` forward,
guarded by the lease in the same statement: two leaders cannot both claim a run even during a
hand-over, and a new leader does not re-run a job that the old one ran a moment ago. While a run
executes, a session advisory lock on the job keeps a slow run of a deposed leader from overlapping the
next one. Other issues add jobs by appending `Job`s (see ``jobs/registry.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from core.log_events import log_event
from db import scheduler as repo

log = logging.getLogger("escuta.scheduler")

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
            await repo.register_instance(conn, self.instance_id, socket.gethostname(), os.getpid())
            for job in self.jobs:
                await repo.register_job(conn, job.name, job.interval)

    async def tick(self) -> None:
        """One heartbeat: renew or take the lease, then start every due job this process may run."""
        try:
            async with self.pool.acquire() as conn:
                await repo.heartbeat(conn, self.instance_id)
                term = await repo.acquire_lease(conn, self.instance_id, self.lease_seconds)
                self._set_term(term)
                if term is None:
                    return
                if self._elected:
                    self._elected = False
                    await repo.abandon_dead_runs(conn, self.instance_id, self.lease_seconds)
                for job in self.jobs:
                    if job.name in self._running:
                        continue  # still running: the claim waits until it finishes
                    run_id = await repo.claim(conn, job.name, self.instance_id, term)
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
            got = await repo.try_job_lock(lock_conn, job.name)
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
                    await repo.release_job_lock(lock_conn, job.name)
                try:
                    await self._record(job, run_id, status, error, result)
                except DB_ERRORS:
                    # The run happened; only its record is lost. The next leader marks it abandoned.
                    log_event(log, logging.WARNING, "scheduler_run_not_recorded", job=job.name, run_id=run_id)

    async def _record(self, job: Job, run_id: int, status: str, error: str | None, result: JobResult) -> None:
        async with self.pool.acquire() as conn:
            await repo.record_run(conn, job.name, run_id, status, error, result)
        log_event(log, logging.INFO, "scheduler_job_finished", job=job.name, status=status, run_id=run_id)

    async def _shutdown(self) -> None:
        for task in list(self._running.values()):
            task.cancel()
        for task in list(self._running.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(*DB_ERRORS):
            async with self.pool.acquire() as conn:
                await repo.stop_instance(conn, self.instance_id)
        self.term = None
        log_event(log, logging.INFO, "scheduler_stopped", instance=self.instance_id)
