"""Reads for the web console (issue 16): live rooms, a session's timeline, the counter's history and rates.

Every read takes the organization (None: the platform's unowned rows, as `/sessions`) and runs inside a
tenant-scoped transaction (:func:`db.tenancy.tenant_connection`), so row-level security backs the filters.
The live view reads all rooms in progress in three statements, whatever their number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from db.pool import Conn

LIVE_ROOMS_LIMIT = 500
HISTORY_LIMIT = 200


@dataclass
class LiveRoom:
    session: asyncpg.Record
    profile: str | None
    participants: list[asyncpg.Record] = field(default_factory=list)
    tracks: list[asyncpg.Record] = field(default_factory=list)

    @property
    def agent_state(self) -> str:
        """``joined`` when an agent participant is in the room, ``waiting`` otherwise."""
        return "joined" if any(p["kind"] == "AGENT" for p in self.participants) else "waiting"


async def live_rooms(conn: Conn, org_id: UUID | None, meeting_id: str | None = None) -> list[LiveRoom]:
    """Rooms in progress (only ``meeting_id``'s when given), newest first, with who is in and what they publish."""
    sessions = await conn.fetch(
        """
        SELECT s.*, r.profile FROM sessions s LEFT JOIN rooms r ON r.room_name = s.room_name
        WHERE s.status = 'ACTIVE' AND s.org_id IS NOT DISTINCT FROM $1 AND ($2::text IS NULL OR s.meeting_id = $2)
        ORDER BY s.started_at DESC, s.meeting_id LIMIT $3
        """,
        org_id,
        meeting_id,
        LIVE_ROOMS_LIMIT,
    )
    rooms = {s["id"]: LiveRoom(s, s["profile"]) for s in sessions}
    if not rooms:
        return []
    ids = list(rooms)
    for p in await conn.fetch(
        "SELECT * FROM session_participants WHERE session_id = ANY($1::uuid[]) AND left_at IS NULL"
        " ORDER BY joined_at NULLS LAST, identity",
        ids,
    ):
        rooms[p["session_id"]].participants.append(p)
    for t in await conn.fetch(
        "SELECT * FROM session_tracks WHERE session_id = ANY($1::uuid[]) AND unpublished_at IS NULL"
        " ORDER BY published_at NULLS LAST, track_sid",
        ids,
    ):
        rooms[t["session_id"]].tracks.append(t)
    return list(rooms.values())


async def recent_sessions(conn: Conn, org_id: UUID | None, limit: int = 20) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM sessions WHERE status = 'ENDED' AND org_id IS NOT DISTINCT FROM $1"
        " ORDER BY ended_at DESC NULLS LAST LIMIT $2",
        org_id,
        limit,
    )
    return rows


async def org_directory(conn: Conn) -> list[asyncpg.Record]:
    """Every organization's id and name (the platform admin's switcher; a definer function, migration 0130)."""
    rows: list[asyncpg.Record] = await conn.fetch("SELECT id, name FROM escuta_org_directory()")
    return rows


# --- a session's timeline ------------------------------------------------------------------------------


async def meeting_feedback(conn: Conn, meeting_id: str, org_id: UUID | None) -> list[asyncpg.Record]:
    """The coach's feedback events of a meeting, in the order they were sent."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, participant_id, type, severity, sent_at, latency_ms, payload FROM feedback_events"
        " WHERE meeting_id = $1 AND org_id IS NOT DISTINCT FROM $2 ORDER BY sent_at, id",
        meeting_id,
        org_id,
    )
    return rows


async def meeting_recommendations(conn: Conn, meeting_id: str, org_id: UUID) -> list[asyncpg.Record]:
    """The counter's recommendations in a meeting, with the clerk's answer (``accepted`` is NULL: none yet)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT r.id, r.product_name, r.explanation, r.transcript_excerpt, r.atendente, r.created_at,
               f.accepted, f.source AS feedback_source
        FROM counter_recommendations r JOIN counter_interactions i ON i.id = r.interaction_id
        LEFT JOIN counter_feedback f ON f.recommendation_id = r.id
        WHERE i.meeting_id = $1 AND r.org_id = $2 ORDER BY r.created_at, r.id
        """,
        meeting_id,
        org_id,
    )
    return rows


# --- the counter's history -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryFilter:
    device_id: UUID | None = None
    clerk: str | None = None
    product: str | None = None
    feedback: str | None = None  # 'accepted', 'rejected', 'none'
    since: datetime | None = None
    until: datetime | None = None

    def args(self) -> tuple[Any, ...]:
        return (self.device_id, self.clerk, self.product, self.feedback, self.since, self.until)


# $2..$7 are the filter's fields, in HistoryFilter.args() order.
_HISTORY_WHERE = """
    r.org_id = $1
    AND ($2::uuid IS NULL OR i.device_id = $2)
    AND ($3::text IS NULL OR r.atendente = $3)
    AND ($4::text IS NULL OR r.product_name ILIKE '%' || $4 || '%')
    AND ($5::text IS NULL OR ($5 = 'accepted' AND f.accepted) OR ($5 = 'rejected' AND NOT f.accepted)
         OR ($5 = 'none' AND f.accepted IS NULL))
    AND ($6::timestamptz IS NULL OR r.created_at >= $6)
    AND ($7::timestamptz IS NULL OR r.created_at < $7)
"""
_HISTORY_FROM = """
    FROM counter_recommendations r JOIN counter_interactions i ON i.id = r.interaction_id
    LEFT JOIN counter_feedback f ON f.recommendation_id = r.id
    LEFT JOIN devices d ON d.id = i.device_id
"""


async def recommendation_history(
    conn: Conn, org_id: UUID, flt: HistoryFilter, *, limit: int = HISTORY_LIMIT
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT r.id, r.created_at, r.product_name, r.atendente, r.explanation, f.accepted, i.meeting_id,"
        " d.name AS device_name" + _HISTORY_FROM + " WHERE " + _HISTORY_WHERE + " ORDER BY r.created_at DESC LIMIT $8",
        org_id,
        *flt.args(),
        limit,
    )
    return rows


@dataclass(frozen=True)
class Rate:
    label: str
    total: int
    accepted: int
    answered: int

    @property
    def rate(self) -> float | None:
        """Accepted over answered (recommendations the clerk never answered do not count)."""
        return self.accepted / self.answered if self.answered else None


async def acceptance_rates(conn: Conn, org_id: UUID, flt: HistoryFilter, by: str, *, top: int = 15) -> list[Rate]:
    """Acceptance per product (``by='product'``) or per clerk (``'clerk'``), the most recommended first."""
    column = {"product": "r.product_name", "clerk": "r.atendente"}[by]
    rows = await conn.fetch(
        f"SELECT {column} AS label, count(*) AS total, count(*) FILTER (WHERE f.accepted) AS accepted,"
        " count(f.accepted) AS answered"
        + _HISTORY_FROM
        + " WHERE "
        + _HISTORY_WHERE
        + f" GROUP BY {column} ORDER BY total DESC, label LIMIT $8",
        org_id,
        *flt.args(),
        top,
    )
    return [Rate(r["label"], r["total"], r["accepted"], r["answered"]) for r in rows]


async def clerks(conn: Conn, org_id: UUID) -> list[str]:
    rows = await conn.fetch(
        "SELECT DISTINCT atendente FROM counter_recommendations WHERE org_id = $1 AND atendente <> ''"
        " ORDER BY atendente LIMIT 500",
        org_id,
    )
    return [r["atendente"] for r in rows]


async def meeting_levels(
    conn: Conn, meeting_id: str, org_id: UUID | None, *, max_points: int = 3000
) -> list[asyncpg.Record]:
    """Each participant's level over the meeting (``at``, ``participant_id``, ``mean_rms_dbfs``), thinned
    evenly to about ``max_points`` rows so a long meeting still plots in one page."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        WITH s AS (
            SELECT at, participant_id, mean_rms_dbfs, speaking,
                   row_number() OVER (ORDER BY at) AS n, count(*) OVER () AS total
            FROM feedback_snapshots WHERE meeting_id = $1 AND org_id IS NOT DISTINCT FROM $2
        )
        SELECT at, participant_id, mean_rms_dbfs, speaking FROM s
        WHERE n % GREATEST(1, ceil(total::numeric / $3)::int) = 0 OR total <= $3
        ORDER BY at
        """,
        meeting_id,
        org_id,
        max_points,
    )
    return rows


# --- clips and avatar ----------------------------------------------------------------------------------


async def bursts_per_day(conn: Conn, org_id: UUID, since: datetime, timezone: str) -> list[asyncpg.Record]:
    """Bursts per streamer and day (in ``timezone``) since ``since``: ``streamer``, ``day``, ``bursts``, ``clips``."""
    rows: list[asyncpg.Record] = await conn.fetch(
        """
        SELECT s.display_name AS streamer, (b.ended_at AT TIME ZONE $3)::date AS day,
               count(*) AS bursts, sum(b.clip_count)::bigint AS clips
        FROM bursts b JOIN streamers s ON s.id = b.streamer_id
        WHERE b.org_id = $1 AND b.ended_at >= $2
        GROUP BY 1, 2 ORDER BY 2, 1
        """,
        org_id,
        since,
        timezone,
    )
    return rows
