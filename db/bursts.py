"""Bursts stored and kept up to date as clips arrive (detection itself is ``core.clips.bursts``).

After new clips of a streamer are stored, :func:`refresh_bursts` recomputes that streamer's bursts from
``interval`` seconds before the oldest new clip (or the start of any burst reaching that far) and
reconciles them with the stored ones: a burst that grew is updated in place (same id), bursts a new
clip bridges are merged into the oldest, and nothing is written when nothing changed, so re-running
over the same clips creates no duplicates. The streamer row is locked meanwhile, so ingestion and a
CSV import of the same streamer cannot interleave.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from core.clips.bursts import detect_bursts


@dataclass
class BurstChanges:
    created: list[UUID] = field(default_factory=list)
    grown: list[UUID] = field(default_factory=list)
    merged_away: list[UUID] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.grown or self.merged_away)


async def refresh_bursts(conn: asyncpg.Connection, org_id: UUID, streamer_id: UUID, since: datetime) -> BurstChanges:
    """Bring the streamer's bursts up to date with its clips created at or after ``since``."""
    changes = BurstChanges()
    s = await conn.fetchrow(
        "SELECT monitor_interval_seconds AS i, monitor_min_clips AS n FROM streamers "
        "WHERE org_id = $1 AND id = $2 FOR UPDATE",
        org_id,
        streamer_id,
    )
    if s is None:
        return changes
    interval, min_clips = int(s["i"]), int(s["n"])
    lower = since - timedelta(seconds=interval)
    earliest = await conn.fetchval(
        "SELECT min(started_at) FROM bursts WHERE org_id = $1 AND streamer_id = $2 AND ended_at >= $3",
        org_id,
        streamer_id,
        lower,
    )
    if earliest is not None and earliest < lower:
        lower = earliest
    clips = await conn.fetch(
        "SELECT id, created_at, viewer_count FROM clips WHERE org_id = $1 AND streamer_id = $2 "
        "AND created_at >= $3 ORDER BY created_at, id",
        org_id,
        streamer_id,
        lower,
    )
    spans = detect_bursts([c["created_at"].timestamp() for c in clips], interval, min_clips)
    if not spans:
        return changes
    existing: list[dict[str, Any]] = [
        dict(r)
        for r in await conn.fetch(
            "SELECT id, started_at, ended_at, clip_count FROM bursts WHERE org_id = $1 AND streamer_id = $2 "
            "AND ended_at >= $3 ORDER BY started_at, id",
            org_id,
            streamer_id,
            lower,
        )
    ]
    for span in spans:
        members = clips[span.first : span.last + 1]
        start, end = members[0]["created_at"], members[-1]["created_at"]
        views = sum(int(c["viewer_count"]) for c in members)
        matches = [b for b in existing if b["started_at"] <= end and b["ended_at"] >= start]
        if not matches:
            burst_id = await conn.fetchval(
                """
                INSERT INTO bursts (org_id, streamer_id, started_at, ended_at, clip_count, total_views,
                                    interval_seconds, min_clips)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
                """,
                org_id,
                streamer_id,
                start,
                end,
                len(members),
                views,
                interval,
                min_clips,
            )
            changes.created.append(burst_id)
        else:
            keep, *absorbed = matches
            burst_id = keep["id"]
            if absorbed:
                gone = [b["id"] for b in absorbed]
                await conn.execute("DELETE FROM bursts WHERE org_id = $1 AND id = ANY($2::uuid[])", org_id, gone)
                changes.merged_away.extend(gone)
                existing = [b for b in existing if b["id"] not in gone]
            if absorbed or (keep["started_at"], keep["ended_at"], keep["clip_count"]) != (start, end, len(members)):
                await conn.execute(
                    """
                    UPDATE bursts SET started_at = $3, ended_at = $4, clip_count = $5, total_views = $6,
                                      updated_at = now()
                     WHERE org_id = $1 AND id = $2
                    """,
                    org_id,
                    burst_id,
                    start,
                    end,
                    len(members),
                    views,
                )
                keep.update(started_at=start, ended_at=end, clip_count=len(members))
                changes.grown.append(burst_id)
        await conn.execute(
            "INSERT INTO burst_clips (org_id, burst_id, clip_id) SELECT $1, $2, unnest($3::bigint[]) "
            "ON CONFLICT DO NOTHING",
            org_id,
            burst_id,
            [c["id"] for c in members],
        )
    return changes


async def recent_bursts(
    conn: asyncpg.Connection, org_id: UUID, since_minutes: int, *, limit: int, clips_per_burst: int = 50
) -> list[asyncpg.Record]:
    """Bursts still going within the last ``since_minutes`` (their last clip is that recent), newest first,
    with their streamer's columns and ``clips`` (jsonb: the first ``clips_per_burst`` clips, oldest first)."""
    rows = await conn.fetch(
        """
        SELECT b.id, b.started_at, b.ended_at, b.clip_count, b.total_views, b.interval_seconds, b.min_clips,
               s.id AS streamer_id, s.twitch_user_id, s.display_name, s.avatar_url,
               COALESCE((
                   SELECT jsonb_agg(jsonb_build_object(
                              'clip_id', c.clip_id, 'created_at', c.created_at, 'viewer_count', c.viewer_count,
                              'title', c.title, 'duration', c.duration, 'url', c.url,
                              'thumbnail_url', c.thumbnail_url, 'video_id', c.video_id)
                          ORDER BY c.created_at, c.id)
                     FROM (SELECT c2.* FROM burst_clips bc JOIN clips c2 ON c2.id = bc.clip_id
                            WHERE bc.burst_id = b.id AND bc.org_id = $1
                            ORDER BY c2.created_at, c2.id LIMIT $4) c
               ), '[]'::jsonb) AS clips
          FROM bursts b JOIN streamers s ON s.id = b.streamer_id AND s.org_id = b.org_id
         WHERE b.org_id = $1 AND b.ended_at >= now() - make_interval(mins => $2)
         ORDER BY b.ended_at DESC, b.id
         LIMIT $3
        """,
        org_id,
        since_minutes,
        limit,
        clips_per_burst,
    )
    return list(rows)
