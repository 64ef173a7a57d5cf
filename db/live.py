"""Live events between processes: PostgreSQL LISTEN/NOTIFY (migration 0080's triggers).

A committed feedback event (`escuta_feedback`) or session change (`escuta_sessions`) is announced with a
compact JSON payload: ids only (``{"id", "org", "meeting", ...}``), since NOTIFY payloads stop at 8000
bytes; the listener reads the row itself, under the organization's scope. Works with any number of API
processes and with the embedded server (NOTIFY is plain PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import asyncpg

from db.pool import Conn
from db.query import org_match

FEEDBACK_CHANNEL = "escuta_feedback"
SESSIONS_CHANNEL = "escuta_sessions"
# Migration 0130: participants, tracks, transcripts and recommendations of a room ({"kind", "org", "meeting"}).
CONSOLE_CHANNEL = "escuta_console"
CHANNELS = (FEEDBACK_CHANNEL, SESSIONS_CHANNEL, CONSOLE_CHANNEL)
# Credential changes (migration 0111): API processes drop cached key lookups and solution profiles.
CREDENTIALS_CHANNEL = "escuta_credentials"

Listener = Callable[[Any, int, str, object], None]  # asyncpg's (connection, pid, channel, payload)


async def listen(dsn: str, channels: tuple[str, ...], callback: Listener) -> asyncpg.Connection:
    """A dedicated connection (never a pooled one: LISTEN belongs to its session) listening on ``channels``."""
    conn = await asyncpg.connect(dsn)
    for channel in channels:
        await conn.add_listener(channel, callback)
    return conn


async def feedback_payload(conn: Conn, event_id: str, org_id: UUID | None) -> dict[str, Any] | None:
    """The feedback event exactly as its hosts received it (seed 002's payload)."""
    payload: dict[str, Any] | None = await conn.fetchval(
        f"SELECT payload FROM feedback_events WHERE id = $1 AND {org_match('org_id', '$2', org_id)}", event_id, org_id
    )
    return payload
