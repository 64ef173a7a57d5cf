"""Meeting sessions built from LiveKit webhook events (seed 002's Session model).

Webhooks can arrive twice or out of order (LiveKit retries, and its queue is not ordered across
rooms and participants). Every event is stored once by id, and each update is written so that the
result does not depend on arrival order: start times take the earliest value seen, end times the
latest, and whether a session is ACTIVE or ENDED is decided by comparing event times
(``last_started_at`` versus ``ended_at``), never by which event came last.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple
from uuid import UUID

import asyncpg
from livekit.protocol import models, webhook

from db.pool import Conn
from db.query import Keyset, Page, SortKey, Where, fetch_page
from db.tenancy import APP_ROLE, scope_sql


@dataclass(frozen=True)
class IngestResult:
    event_id: str
    event: str
    duplicate: bool
    meeting_id: str | None
    org_id: UUID | None  # the organization the room was minted for (None: nobody minted it)


class EventRow(NamedTuple):
    """One webhook event as the ingestion functions take it (migration 0001's parameters, in order)."""

    id: str
    event: str
    room_name: str
    room_sid: str
    at: datetime
    payload: str  # the body itself: it already is the event's JSON, no need to re-serialize it
    room_start: datetime
    participant_sid: str
    identity: str
    name: str
    kind: str
    metadata: str
    joined_at: datetime | None
    track_sid: str
    track_kind: str
    track_source: str
    track_name: str

    @property
    def meeting_id(self) -> str | None:
        return self.room_sid or (f"name:{self.room_name}" if self.room_name else None)


def ts(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _event_time(ev: webhook.WebhookEvent) -> datetime:
    return ts(ev.created_at) if ev.created_at else datetime.now(UTC)


def _room_start(room: models.Room, fallback: datetime) -> datetime:
    if room.creation_time_ms:
        return ts(room.creation_time_ms / 1000)
    if room.creation_time:
        return ts(room.creation_time)
    return fallback


def _joined_at(p: models.ParticipantInfo) -> datetime | None:
    if p.joined_at_ms:
        return ts(p.joined_at_ms / 1000)
    if p.joined_at:
        return ts(p.joined_at)
    return None


def event_id(ev: webhook.WebhookEvent, raw_body: bytes) -> str:
    # LiveKit always sets an id; a body without one is keyed by its content so a resend is still a no-op.
    return ev.id or body_event_id(raw_body)


def body_event_id(raw_body: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw_body).hexdigest()


def event_row(ev: webhook.WebhookEvent, raw_body: bytes) -> EventRow:
    """The row of a parsed protobuf event (the reference the webhook route's fast parser must match)."""
    at = _event_time(ev)
    p, t = ev.participant, ev.track
    return EventRow(
        event_id(ev, raw_body),
        ev.event,
        ev.room.name,
        ev.room.sid,
        at,
        raw_body.decode("utf-8"),
        _room_start(ev.room, at),
        p.sid,
        p.identity,
        p.name,
        models.ParticipantInfo.Kind.Name(p.kind),
        p.metadata,
        _joined_at(p),
        t.sid,
        models.TrackType.Name(t.type),
        models.TrackSource.Name(t.source),
        t.name,
    )


# One statement: scope the implicit transaction to the room's organization, then ingest (see ingest_event).
_INGEST_SQL = (
    "WITH o AS MATERIALIZED (SELECT escuta_room_org($18) AS org_id),"
    " s AS MATERIALIZED (SELECT org_id, " + scope_sql("$19", "coalesce(org_id::text, '')") + " FROM o)"
    " SELECT s.org_id, escuta_ingest_livekit_event($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8, $9, $10, $11,"
    " $12, $13, $14, $15, $16, $17) AS stored FROM s"
)


async def ingest_event(conn: Conn, ev: webhook.WebhookEvent, raw_body: bytes) -> IngestResult:
    """Store the event once, under its room's organization, and fold it into the session tables."""
    row = event_row(ev, raw_body)
    org_id, stored = await ingest_row(conn, row)
    return IngestResult(row.id, row.event, not stored, row.meeting_id, org_id)


async def ingest_row(conn: Conn, row: EventRow) -> tuple[UUID | None, bool]:
    """One event: (its room's organization, False when the id was already stored).

    One statement, one round trip, its own implicit transaction (call it outside an explicit one): the
    materialized CTE looks up the organization the room was minted for (a ``SECURITY DEFINER`` function:
    the tenant is not known yet) and scopes the transaction to it as ``escuta_app`` (with
    :func:`db.tenancy.scope_sql`, like ``scope_to_org``), before the outer row calls
    ``escuta_ingest_livekit_event`` (migration 0001) under row-level security.
    """
    found = await conn.fetchrow(_INGEST_SQL, *row, row.room_name, APP_ROLE)
    assert found is not None  # the CTE always yields one row
    return found["org_id"], bool(found["stored"])


async def ingest_rows(conn: Conn, rows: Sequence[EventRow]) -> list[tuple[UUID | None, bool]]:
    """Several events in one round trip and one transaction (migration 0110): results in ``rows``' order.

    Each event is still stored under its own room's organization with row-level security on (the
    function re-scopes the transaction per event). Durable when this returns: the statement's implicit
    transaction has committed. Rows should come sorted by meeting (see the webhook batcher), so two
    batches touching the same sessions lock them in the same order.
    """
    columns = list(zip(*rows, strict=True))
    found = await conn.fetch(_INGEST_MANY_SQL, APP_ROLE, *columns)
    by_ord = {r["ord"]: (r["org_id"], bool(r["stored"])) for r in found}
    return [by_ord[i] for i in range(1, len(rows) + 1)]


_INGEST_MANY_SQL = (
    "SELECT ord, org_id, stored FROM escuta_ingest_livekit_events($1, $2::text[], $3::text[], $4::text[],"
    " $5::text[], $6::timestamptz[], $7::text[], $8::timestamptz[], $9::text[], $10::text[], $11::text[],"
    " $12::text[], $13::text[], $14::timestamptz[], $15::text[], $16::text[], $17::text[], $18::text[])"
)


# --- reads ---------------------------------------------------------------------------------------------


SESSIONS = Keyset("sessions", (SortKey("started_at", "timestamptz", descending=True), SortKey("meeting_id", "text")))


async def list_sessions(
    conn: Conn,
    *,
    status: str | None,
    room: str | None,
    limit: int,
    offset: int = 0,
    cursor: str | None = None,
    org_id: UUID | None = None,
) -> Page:
    """Sessions of ``org_id`` (None: sessions of rooms no organization minted, the platform's view), newest
    first, after ``cursor`` (raises :class:`db.query.InvalidCursor` for one this list did not issue).

    Only the filters given go into the WHERE clause, so each combination has its own plan on one of
    the ``sessions_org_*`` indexes (migration 0100).
    """
    where = Where().org("org_id", org_id).eq("status", status).eq("room_name", room)
    return await fetch_page(
        conn, SESSIONS, select="SELECT * FROM sessions", where=where, limit=limit, offset=offset, cursor=cursor
    )


@dataclass(frozen=True)
class SessionRows:
    """A session's row, its participants (by join time) and their tracks (by publication time)."""

    session: asyncpg.Record
    participants: list[asyncpg.Record]
    tracks: list[asyncpg.Record]


async def get_session(conn: Conn, meeting_id: str, org_id: UUID | None = None) -> SessionRows | None:
    where = Where().eq("meeting_id", meeting_id).org("org_id", org_id)
    row = await conn.fetchrow(f"SELECT * FROM sessions WHERE {where.sql}", *where.args)
    if row is None:
        return None
    tracks = await conn.fetch(
        "SELECT * FROM session_tracks WHERE session_id = $1 ORDER BY published_at NULLS LAST, track_sid",
        row["id"],
    )
    parts = await conn.fetch(
        "SELECT * FROM session_participants WHERE session_id = $1 ORDER BY joined_at NULLS LAST, identity",
        row["id"],
    )
    return SessionRows(row, parts, tracks)


async def upsert_session(
    conn: Conn,
    *,
    meeting_id: str,
    room_name: str,
    status: str,
    started_at: datetime,
    ended_at: datetime | None,
    org_id: UUID | None,
) -> None:
    """A session written directly, not from webhooks (`escuta replay --store`)."""
    await conn.execute(
        """
        INSERT INTO sessions (meeting_id, room_name, status, started_at, ended_at, org_id)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (meeting_id) DO UPDATE SET status = EXCLUDED.status, ended_at = EXCLUDED.ended_at,
            updated_at = now()
        """,
        meeting_id,
        room_name,
        status,
        started_at,
        ended_at,
        org_id,
    )


async def session_exists(conn: Conn, meeting_id: str, org_id: UUID | None) -> bool:
    where = Where().eq("meeting_id", meeting_id).org("org_id", org_id)
    return bool(await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM sessions WHERE {where.sql})", *where.args))


async def session_room(conn: Conn, meeting_id: str, org_id: UUID | None) -> str | None:
    """The room name of a session visible to `org_id`, None if there is no such session."""
    where = Where().eq("meeting_id", meeting_id).org("org_id", org_id)
    room: str | None = await conn.fetchval(f"SELECT room_name FROM sessions WHERE {where.sql}", *where.args)
    return room


async def room_profile(conn: Conn, room_name: str) -> str | None:
    """The profile a room was minted for (the room registry of `/token`), None if never minted."""
    profile: str | None = await conn.fetchval("SELECT profile FROM rooms WHERE room_name = $1", room_name)
    return profile
