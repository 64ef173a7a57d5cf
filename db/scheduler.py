"""The job scheduler's tables: instances and their heartbeats, the leader lease, jobs and their runs.

The algorithm is in ``jobs/scheduler.py``; every statement it runs is here.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import asyncpg

from db.pool import Conn

LEASE_NAME = "scheduler"
RUN_HISTORY = "7 days"


def job_lock_key(name: str) -> int:
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


async def register_instance(conn: Conn, instance_id: str, hostname: str, pid: int) -> None:
    await conn.execute(
        """
        INSERT INTO scheduler_instances (id, hostname, pid) VALUES ($1, $2, $3)
        ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), stopped_at = NULL
        """,
        instance_id,
        hostname,
        pid,
    )


async def register_job(conn: Conn, name: str, interval: float) -> None:
    await conn.execute(
        """
        INSERT INTO scheduler_jobs (name, interval_seconds) VALUES ($1, $2)
        ON CONFLICT (name) DO UPDATE SET interval_seconds = EXCLUDED.interval_seconds
        """,
        name,
        interval,
    )


async def heartbeat(conn: Conn, instance_id: str) -> None:
    await conn.execute("UPDATE scheduler_instances SET heartbeat_at = now() WHERE id = $1", instance_id)


async def acquire_lease(conn: Conn, instance_id: str, lease_seconds: float) -> int | None:
    """The lease's term when this instance holds it (renewed or taken over), else None."""
    term: int | None = await conn.fetchval(_ACQUIRE_LEASE, LEASE_NAME, instance_id, lease_seconds)
    return term


async def abandon_dead_runs(conn: Conn, instance_id: str, dead_after: float) -> None:
    await conn.execute(_ABANDON, instance_id, dead_after)


async def claim(conn: Conn, job: str, instance_id: str, term: int) -> int | None:
    """The new run's id when the job was due and this instance still leads, else None."""
    run_id: int | None = await conn.fetchval(_CLAIM, job, instance_id, LEASE_NAME, term)
    return run_id


async def try_job_lock(conn: Conn, job: str) -> bool:
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", job_lock_key(job)))


async def release_job_lock(conn: Conn, job: str) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1)", job_lock_key(job))


async def record_run(
    conn: Conn, job: str, run_id: int, status: str, error: str | None, result: dict[str, Any] | None
) -> None:
    """The run's outcome, on the run and on its job, and the job's history trimmed (one transaction)."""
    async with conn.transaction():
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
            job,
            status,
            error,
            result,
        )
        await conn.execute(
            f"DELETE FROM scheduler_runs WHERE job = $1 AND started_at < now() - interval '{RUN_HISTORY}'",
            job,
        )


async def stop_instance(conn: Conn, instance_id: str) -> None:
    """Give the lease up (a follower takes over at its next tick) and mark the instance stopped."""
    await conn.execute(
        "UPDATE scheduler_lease SET expires_at = now() WHERE name = $1 AND holder = $2", LEASE_NAME, instance_id
    )
    await conn.execute("UPDATE scheduler_instances SET stopped_at = now() WHERE id = $1", instance_id)


async def status(conn: Conn) -> tuple[datetime, list[asyncpg.Record], asyncpg.Record | None, list[asyncpg.Record]]:
    """For `/health/worker`: the database's now, recent instances (newest first), the lease, the jobs."""
    now: datetime = await conn.fetchval("SELECT now()")
    instances = await conn.fetch(
        "SELECT id, heartbeat_at, stopped_at FROM scheduler_instances "
        "WHERE heartbeat_at > now() - interval '1 day' ORDER BY heartbeat_at DESC"
    )
    lease = await conn.fetchrow("SELECT holder, term, expires_at FROM scheduler_lease WHERE name = $1", LEASE_NAME)
    jobs = await conn.fetch("SELECT * FROM scheduler_jobs ORDER BY name")
    return now, instances, lease, jobs
