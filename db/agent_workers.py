"""Agent workers' heartbeats (migration 0140): each `escuta worker` process upserts its row every
``ESCUTA_WORKER_HEARTBEAT_SECONDS``; a row not refreshed for three intervals counts as gone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from db.pool import Conn

# Rows of workers gone this long are deleted by the next heartbeat of any worker (history is not kept).
FORGET_AFTER = "1 day"


@dataclass(frozen=True)
class Beat:
    worker_id: UUID
    label: str
    agent_name: str
    profiles: Sequence[str]
    livekit_worker_id: str | None
    load: float
    jobs: int


async def beat(conn: Conn, b: Beat) -> None:
    """Insert or refresh the worker's row (`started_at` stays the first beat's)."""
    await conn.execute(
        """
        INSERT INTO agent_workers (id, label, agent_name, profiles, livekit_worker_id, load, jobs)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (id) DO UPDATE
           SET last_seen = now(), label = EXCLUDED.label, agent_name = EXCLUDED.agent_name,
               profiles = EXCLUDED.profiles, livekit_worker_id = EXCLUDED.livekit_worker_id,
               load = EXCLUDED.load, jobs = EXCLUDED.jobs
        """,
        b.worker_id,
        b.label,
        b.agent_name,
        list(b.profiles),
        b.livekit_worker_id,
        b.load,
        b.jobs,
    )
    await conn.execute(f"DELETE FROM agent_workers WHERE last_seen < now() - interval '{FORGET_AFTER}'")


async def remove(conn: Conn, worker_id: UUID) -> None:
    """A worker stopping cleanly leaves at once rather than after three missed beats."""
    await conn.execute("DELETE FROM agent_workers WHERE id = $1", worker_id)


async def live(conn: Conn, dead_after: float) -> tuple[datetime, list[asyncpg.Record]]:
    """The database's now and the workers seen within `dead_after` seconds, longest-running first."""
    now: datetime = await conn.fetchval("SELECT now()")
    rows = await conn.fetch(
        "SELECT id, label, agent_name, profiles, livekit_worker_id, started_at, last_seen, load, jobs "
        "FROM agent_workers WHERE last_seen > now() - make_interval(secs => $1) ORDER BY started_at, id",
        dead_after,
    )
    return now, rows
