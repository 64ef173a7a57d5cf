"""The `feedback.retention` job: delete meeting-coach rows older than `FEEDBACK_TTL_DAYS` (seed 002).

Seed 002 deleted expired feedback opportunistically on every insert, which made writes pay for
retention and never cleaned up meetings that stopped writing. A scheduled job does it once, off the
hot path, as the platform (all organizations at once, outside row-level security).
"""

from __future__ import annotations

import logging
from datetime import datetime

import asyncpg

from core.settings import Settings
from db.coach import delete_expired
from jobs.scheduler import JobResult

log = logging.getLogger("escuta.coach.retention")


class FeedbackRetention:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self.pool = pool
        self.ttl_days = settings.coach.feedback_ttl_days

    async def run(self, *, now: datetime | None = None) -> JobResult:
        async with self.pool.acquire() as conn, conn.transaction():
            counts = await delete_expired(conn, self.ttl_days, now=now)
        log.info("feedback_retention", extra={"deleted": counts, "ttl_days": self.ttl_days})
        return {"ttlDays": self.ttl_days, "deleted": counts}
