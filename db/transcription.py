"""Transcripts: one row per utterance, written by the agent, read back by the API (JSON or WebVTT)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from db.pool import Conn
from db.query import org_match


@dataclass(frozen=True)
class TranscriptRow:
    meeting_id: str
    segment_id: str
    participant_identity: str
    start_s: float
    end_s: float
    status: str  # "ok" | "failed"
    org_id: UUID | None = None
    track_sid: str | None = None
    started_at: datetime | None = None
    text: str | None = None
    language: str | None = None
    provider: str | None = None
    model: str | None = None
    confidence: float | None = None
    latency_ms: float | None = None
    provider_ms: float | None = None
    failure_reason: str | None = None
    audio_ref: str | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    background: str | None = None  # the background-speech stage's decision ("near"), None when it was off
    background_confidence: float | None = None
    background_margin_db: float | None = None


_COLUMNS = [f for f in TranscriptRow.__dataclass_fields__]


async def insert_transcript(conn: Conn, row: TranscriptRow) -> bool:
    """Store one utterance; a second write of the same segment is a no-op (returns False)."""
    values = asdict(row)  # attempts stays a list: Escuta's pool encodes jsonb itself (db.pool)
    placeholders = ", ".join(f"${i}" for i in range(1, len(_COLUMNS) + 1))
    status = await conn.execute(
        f"INSERT INTO transcripts ({', '.join(_COLUMNS)}) VALUES ({placeholders})"
        " ON CONFLICT (meeting_id, segment_id) DO NOTHING",
        *(values[c] for c in _COLUMNS),
    )
    return status.endswith(" 1")


async def list_transcript(conn: Conn, meeting_id: str, org_id: UUID | None) -> list[asyncpg.Record]:
    """A meeting's utterances in time order (then by speaker and segment, for a stable order)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT * FROM transcripts WHERE meeting_id = $1 AND {org_match('org_id', '$2', org_id)}"
        " ORDER BY start_s, participant_identity, segment_id",
        meeting_id,
        org_id,
    )
    return rows
