"""The `avatar.usage` job: record usage for avatar sessions whose agent never did (it crashed).

The agent records a session's usage when it ends. If the job process dies first, the webhooks still
tell when the room ended and when the avatar and visitors were in it; this job turns that into usage
(avatar minutes from the avatar participant's presence, speech-to-text seconds estimated as the
visitors' presence; LLM tokens and TTS characters are unknown and recorded as 0) and charges it.
A grace period leaves the agent time to write its own, more exact, record first.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import asyncpg

from core.avatar.credits import Usage
from core.settings import Settings
from db import credits as repo
from jobs.scheduler import JobResult

log = logging.getLogger("escuta.avatar.usage")
GRACE = timedelta(minutes=2)


class UsageReconciliation:
    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings

    async def run(self, *, now: datetime | None = None) -> JobResult:
        cutoff = (now or datetime.now(UTC)) - GRACE
        recorded = 0
        # As the platform: every organization's ended sessions (the owner role, outside row-level security).
        async with self.pool.acquire() as conn:
            rows = await repo.unrecorded_sessions(
                conn, older_than=cutoff, avatar_identity=self.settings.avatar.participant_identity
            )
            for row in rows:
                usage = Usage(
                    avatar_seconds=max(0.0, row["avatar_seconds"]), stt_seconds=max(0.0, row["visitor_seconds"])
                )
                if await repo.record_usage(
                    conn,
                    org_id=row["org_id"],
                    meeting_id=row["meeting_id"],
                    room_name=row["room_name"],
                    started_at=row["started_at"],
                    ended_at=row["ended_at"],
                    usage=usage,
                    credits=usage.credits(self.settings),
                    source="reconciled",
                ):
                    recorded += 1
        if recorded:
            log.info("avatar usage reconciled", extra={"sessions": recorded})
        return {"reconciled": recorded}
