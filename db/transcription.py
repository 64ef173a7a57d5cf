"""Transcripts: one row per utterance, written by the agent, read back as JSON or WebVTT."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from db.pool import Conn


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


def transcript_json(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "segmentId": r["segment_id"],
        "participantIdentity": r["participant_identity"],
        "trackSid": r["track_sid"],
        "start": r["start_s"],
        "end": r["end_s"],
        "startedAt": r["started_at"].isoformat() if r["started_at"] else None,
        "text": r["text"],
        "language": r["language"],
        "provider": r["provider"],
        "confidence": r["confidence"],
        "latencyMs": r["latency_ms"],
        "status": r["status"],
        "failureReason": r["failure_reason"],
        "audioRef": r["audio_ref"],
    }


async def list_transcript(conn: Conn, meeting_id: str, org_id: UUID | None) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT * FROM transcripts WHERE meeting_id = $1 AND org_id IS NOT DISTINCT FROM $2"
        " ORDER BY start_s, participant_identity, segment_id",
        meeting_id,
        org_id,
    )
    return [transcript_json(r) for r in rows]


# --- WebVTT --------------------------------------------------------------------------------------------


def _vtt_time(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _vtt_escape(text: str) -> str:
    # Cue text may not contain "-->" nor raw "<" / "&"; escaping "<", ">" and "&" covers all three.
    # Blank lines would end the cue, so line breaks become spaces.
    flat = " ".join(text.split())
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_webvtt(items: list[dict[str, Any]]) -> str:
    """Transcribed utterances as WebVTT cues, each voiced (`<v identity>`) by its speaker."""
    lines = ["WEBVTT", ""]
    n = 0
    for item in items:
        if item["status"] != "ok" or not (item["text"] or "").strip():
            continue
        n += 1
        start, end = float(item["start"]), float(item["end"])
        end = max(end, start + 0.001)  # a cue must end after it starts
        lines += [
            str(n),
            f"{_vtt_time(start)} --> {_vtt_time(end)}",
            f"<v {_vtt_escape(item['participantIdentity'])}>{_vtt_escape(item['text'])}",
            "",
        ]
    return "\n".join(lines)
