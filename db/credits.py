"""Avatar usage and the credit ledger (migration 0060).

The balance is the ledger's sum. Usage is written once per session (``avatar_usage`` keyed by the
room sid) together with its consumption entry, in one transaction, so the ledger and the usage always
agree and recording twice (agent and reconciliation racing) changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

import asyncpg

from core.avatar.credits import Usage
from db.pool import Conn

AVATAR_PROFILE = "avatar"


async def balance(conn: Conn, org_id: UUID) -> Decimal:
    value = await conn.fetchval("SELECT coalesce(sum(amount), 0) FROM credit_ledger WHERE org_id = $1", org_id)
    return Decimal(value)


async def add_entry(
    conn: Conn, org_id: UUID, kind: Literal["grant", "adjustment"], amount: Decimal, note: str | None
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO credit_ledger (org_id, kind, amount, note) VALUES ($1, $2, $3, $4) "
        "RETURNING id, kind, amount, meeting_id, note, created_at",
        org_id,
        kind,
        amount,
        note,
    )
    assert row is not None
    return row


async def record_usage(
    conn: Conn,
    *,
    org_id: UUID,
    meeting_id: str,
    room_name: str,
    started_at: datetime,
    ended_at: datetime,
    usage: Usage,
    credits: Decimal,
    source: Literal["agent", "reconciled"],
) -> bool:
    """Store a session's usage and its consumption. False when that session was already recorded."""
    async with conn.transaction():
        inserted = await conn.fetchval(
            """
            INSERT INTO avatar_usage (meeting_id, org_id, room_name, started_at, ended_at, avatar_seconds,
                                      stt_seconds, llm_tokens, tts_characters, credits, source)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (meeting_id) DO NOTHING
            RETURNING true
            """,
            meeting_id,
            org_id,
            room_name,
            started_at,
            ended_at,
            usage.avatar_seconds,
            usage.stt_seconds,
            usage.llm_tokens,
            usage.tts_characters,
            credits,
            source,
        )
        if not inserted:
            return False
        await conn.execute(
            "INSERT INTO credit_ledger (org_id, kind, amount, meeting_id, note) VALUES ($1, 'consumption', $2, $3, $4)",
            org_id,
            -credits,
            meeting_id,
            f"avatar session {room_name} ({source})",
        )
    return True


async def usage_by_session(conn: Conn, org_id: UUID, since: datetime, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM avatar_usage WHERE org_id = $1 AND ended_at >= $2 ORDER BY ended_at DESC LIMIT $3",
        org_id,
        since,
        limit,
    )


async def usage_by_period(
    conn: Conn, org_id: UUID, since: datetime, period: Literal["day", "month"], timezone: str
) -> list[asyncpg.Record]:
    """Usage per day or month (``period``, a timestamp in ``timezone``), newest first."""
    return await conn.fetch(
        """
        SELECT date_trunc($3, ended_at AT TIME ZONE $4) AS period, count(*) AS sessions,
               sum(avatar_seconds) AS avatar_seconds, sum(stt_seconds) AS stt_seconds,
               sum(llm_tokens)::bigint AS llm_tokens, sum(tts_characters)::bigint AS tts_characters,
               sum(credits) AS credits
          FROM avatar_usage WHERE org_id = $1 AND ended_at >= $2
         GROUP BY 1 ORDER BY 1 DESC
        """,
        org_id,
        since,
        period,
        timezone,
    )


async def ledger(conn: Conn, org_id: UUID, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, kind, amount, meeting_id, note, created_at FROM credit_ledger WHERE org_id = $1 "
        "ORDER BY created_at DESC, id DESC LIMIT $2",
        org_id,
        limit,
    )


async def unrecorded_sessions(conn: Conn, *, older_than: datetime, avatar_identity: str) -> list[asyncpg.Record]:
    """Ended avatar sessions with no usage row (the agent crashed), with presence times from webhooks.

    Runs as the platform (all organizations). Avatar time is the avatar participant's presence; the
    speech-to-text estimate is the visitors' presence (the agent transcribes them while they are in).
    """
    return list(
        await conn.fetch(
            """
            SELECT s.meeting_id, s.org_id, s.room_name, s.started_at, s.ended_at,
                   coalesce(sum(extract(epoch FROM coalesce(p.left_at, s.ended_at) - p.joined_at))
                            FILTER (WHERE p.identity = $2), 0)::float8 AS avatar_seconds,
                   coalesce(sum(extract(epoch FROM coalesce(p.left_at, s.ended_at) - p.joined_at))
                            FILTER (WHERE p.identity <> $2 AND p.kind <> 'AGENT'), 0)::float8
                       AS visitor_seconds
              FROM sessions s
              JOIN rooms r ON r.room_name = s.room_name AND r.org_id = s.org_id AND r.profile = $3
              LEFT JOIN session_participants p ON p.session_id = s.id AND p.joined_at IS NOT NULL
             WHERE s.status = 'ENDED' AND s.org_id IS NOT NULL AND s.ended_at < $1
               AND NOT EXISTS (SELECT 1 FROM avatar_usage u WHERE u.meeting_id = s.meeting_id)
             GROUP BY s.id
            """,
            older_than,
            avatar_identity,
            AVATAR_PROFILE,
        )
    )


async def timezone_exists(conn: Conn, name: str) -> bool:
    """PostgreSQL knows this time zone (the usage report groups days in it)."""
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)", name))
