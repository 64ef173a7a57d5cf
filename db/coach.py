"""Meeting coach storage: feedback events, level snapshots, prosody results, per-organization settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from db.pool import Conn
from db.query import org_match

RETAINED_TABLES = ("feedback_events", "feedback_snapshots", "prosody_results", "prosody_status")


def epoch_ms_to_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000.0, tz=UTC)


async def insert_feedback(
    conn: Conn,
    payload: dict[str, Any],
    *,
    org_id: UUID | None,
    recipients: tuple[str, ...],
    latency_ms: float,
    prosody_provider: str | None = None,
    prosody_fallback: str | None = None,
) -> None:
    """Store one event exactly as sent (seed 002's payload; its ts is the sending time), with the prosody
    measure in effect when it was produced."""
    await conn.execute(
        """
        INSERT INTO feedback_events (id, org_id, meeting_id, participant_id, type, severity, window_start,
                                     window_end, sent_at, recipients, latency_ms, payload, prosody_provider,
                                     prosody_fallback)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        ON CONFLICT (id) DO NOTHING
        """,
        payload["id"],
        org_id,
        payload["meetingId"],
        payload["participantId"],
        payload["type"],
        payload["severity"],
        epoch_ms_to_dt(payload["window"]["start"]),
        epoch_ms_to_dt(payload["window"]["end"]),
        epoch_ms_to_dt(payload["ts"]),
        list(recipients),
        max(0.0, latency_ms),
        payload,
        prosody_provider,
        prosody_fallback,
    )


@dataclass(frozen=True)
class SnapshotRow:
    meeting_id: str
    participant_id: str
    t_s: float
    at: datetime
    rms_dbfs: float
    ema_rms_dbfs: float
    mean_rms_dbfs: float
    peak_dbfs: float
    clipping_ratio: float
    speech_coverage: float
    speaking: bool
    org_id: UUID | None = None


async def insert_snapshot(conn: Conn, s: SnapshotRow) -> None:
    await conn.execute(
        """
        INSERT INTO feedback_snapshots (org_id, meeting_id, participant_id, t_s, at, rms_dbfs, ema_rms_dbfs,
                                        mean_rms_dbfs, peak_dbfs, clipping_ratio, speech_coverage, speaking)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        """,
        s.org_id,
        s.meeting_id,
        s.participant_id,
        s.t_s,
        s.at,
        s.rms_dbfs,
        s.ema_rms_dbfs,
        s.mean_rms_dbfs,
        s.peak_dbfs,
        s.clipping_ratio,
        s.speech_coverage,
        s.speaking,
    )


async def insert_prosody(
    conn: Conn,
    *,
    org_id: UUID | None,
    meeting_id: str,
    participant_id: str,
    provider: str,
    utterance: tuple[float, float],
    window: tuple[float, float],
    features: dict[str, Any],
) -> None:
    await conn.execute(
        """
        INSERT INTO prosody_results (org_id, meeting_id, participant_id, provider, utterance_start, utterance_end,
                                     window_start, window_end, features)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        org_id,
        meeting_id,
        participant_id,
        provider,
        utterance[0],
        utterance[1],
        window[0],
        window[1],
        features,
    )


async def coach_settings(conn: Conn, org_id: UUID) -> tuple[dict[str, Any], bool | None]:
    """An organization's threshold overrides and recordings switch (empty / None when it has none)."""
    row = await conn.fetchrow("SELECT overrides, recordings_enabled FROM coach_settings WHERE org_id = $1", org_id)
    if row is None:
        return {}, None
    return dict(row["overrides"]), row["recordings_enabled"]


async def set_coach_settings(
    conn: Conn, org_id: UUID, overrides: dict[str, Any], recordings_enabled: bool | None = None
) -> None:
    await conn.execute(
        """
        INSERT INTO coach_settings (org_id, overrides, recordings_enabled) VALUES ($1, $2, $3)
        ON CONFLICT (org_id) DO UPDATE
           SET overrides = EXCLUDED.overrides, recordings_enabled = EXCLUDED.recordings_enabled, updated_at = now()
        """,
        org_id,
        overrides,
        recordings_enabled,
    )


async def delete_expired(conn: Conn, ttl_days: float, *, now: datetime | None = None) -> dict[str, int]:
    """Delete rows created more than `ttl_days` before `now` (strictly older; the boundary row stays)."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=ttl_days)
    counts: dict[str, int] = {}
    for table in RETAINED_TABLES:
        status = await conn.execute(f"DELETE FROM {table} WHERE created_at < $1", cutoff)
        counts[table] = int(status.split()[-1])
    return counts


async def debug_view(conn: Conn, meeting_id: str, org_id: UUID | None) -> list[asyncpg.Record]:
    """The latest snapshot of each participant, with how many events were generated about them (``events``)."""
    return list(
        await conn.fetch(
            f"""
            SELECT DISTINCT ON (s.participant_id) s.*,
                   (SELECT count(*) FROM feedback_events e
                     WHERE e.meeting_id = s.meeting_id AND e.participant_id = s.participant_id
                       AND (e.org_id = s.org_id OR (e.org_id IS NULL AND s.org_id IS NULL))) AS events
              FROM feedback_snapshots s
             WHERE s.meeting_id = $1 AND {org_match("s.org_id", "$2", org_id)}
             ORDER BY s.participant_id, s.t_s DESC
            """,
            meeting_id,
            org_id,
        )
    )


@dataclass(frozen=True)
class MeetingCounts:
    total: int
    sent: int  # events that reached at least one recipient
    counts: dict[str, int]  # per type
    mean_latency_ms: float | None  # None: no event yet
    p95_latency_ms: float | None


async def metrics(conn: Conn, meeting_id: str, org_id: UUID | None) -> MeetingCounts:
    """Counts per type, and mean and p95 of the latency from the window's end to sending (ms)."""
    rows = await conn.fetch(
        f"""
        SELECT type, count(*) AS n FROM feedback_events
         WHERE meeting_id = $1 AND {org_match("org_id", "$2", org_id)} GROUP BY type ORDER BY type
        """,
        meeting_id,
        org_id,
    )
    lat = await conn.fetchrow(
        f"""
        SELECT count(*) AS n, avg(latency_ms) AS mean,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95,
               count(*) FILTER (WHERE cardinality(recipients) > 0) AS sent
          FROM feedback_events WHERE meeting_id = $1 AND {org_match("org_id", "$2", org_id)}
        """,
        meeting_id,
        org_id,
    )
    assert lat is not None
    return MeetingCounts(
        total=lat["n"],
        sent=lat["sent"],
        counts={r["type"]: r["n"] for r in rows},
        mean_latency_ms=float(lat["mean"]) if lat["mean"] is not None else None,
        p95_latency_ms=float(lat["p95"]) if lat["p95"] is not None else None,
    )


async def meeting_known(conn: Conn, meeting_id: str, org_id: UUID | None) -> bool:
    """The meeting exists for this organization: as a session, or through coach rows alone (replays)."""
    org = org_match("org_id", "$2", org_id)
    return bool(
        await conn.fetchval(
            f"""
            SELECT EXISTS (SELECT 1 FROM sessions WHERE meeting_id = $1 AND {org})
                OR EXISTS (SELECT 1 FROM feedback_events WHERE meeting_id = $1 AND {org})
                OR EXISTS (SELECT 1 FROM feedback_snapshots WHERE meeting_id = $1 AND {org})
            """,
            meeting_id,
            org_id,
        )
    )


@dataclass(frozen=True)
class ProsodyStatusRow:
    org_id: UUID | None
    meeting_id: str
    requested: str
    provider: str
    fallback: str | None
    detail: str | None
    at: datetime


async def insert_prosody_status(conn: Conn, s: ProsodyStatusRow) -> None:
    await conn.execute(
        """
        INSERT INTO prosody_status (org_id, meeting_id, requested, provider, fallback, detail, at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        s.org_id,
        s.meeting_id,
        s.requested,
        s.provider,
        s.fallback,
        s.detail,
        s.at,
    )


async def prosody_status(conn: Conn, meeting_id: str, org_id: UUID | None) -> ProsodyStatusRow | None:
    """The meeting's prosody measure now (its latest status row); None when none was recorded."""
    row = await conn.fetchrow(
        f"""
        SELECT org_id, meeting_id, requested, provider, fallback, detail, at FROM prosody_status
         WHERE meeting_id = $1 AND {org_match("org_id", "$2", org_id)} ORDER BY at DESC, id DESC LIMIT 1
        """,
        meeting_id,
        org_id,
    )
    return ProsodyStatusRow(**dict(row)) if row is not None else None


async def prosody_counts(conn: Conn, meeting_id: str, org_id: UUID | None) -> tuple[dict[str, int], dict[str, int]]:
    """Prosody results per provider, and feedback events per prosody measure in effect ("off": none)."""
    results = await conn.fetch(
        f"""
        SELECT provider, count(*) AS n FROM prosody_results
         WHERE meeting_id = $1 AND {org_match("org_id", "$2", org_id)} GROUP BY provider
        """,
        meeting_id,
        org_id,
    )
    events = await conn.fetch(
        f"""
        SELECT coalesce(prosody_provider, 'off') AS provider, count(*) AS n FROM feedback_events
         WHERE meeting_id = $1 AND {org_match("org_id", "$2", org_id)} GROUP BY 1
        """,
        meeting_id,
        org_id,
    )
    return {r["provider"]: r["n"] for r in results}, {r["provider"]: r["n"] for r in events}
