"""Stored bursts: merged when a late clip bridges two, linked to their clips, never duplicated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from core.clips.source import ClipRecord
from core.settings import Settings
from db.bursts import BurstChanges, refresh_bursts
from db.clips import upsert_clips
from db.tenancy import tenant_connection
from tests.clips.factories import make_org, make_streamer

T0 = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)


async def _add(pool: asyncpg.Pool, org: UUID, sid: UUID, seconds: list[int]) -> BurstChanges:
    clips = [ClipRecord(f"c{s}", "100", T0 + timedelta(seconds=s), 10, "t", 30.0) for s in seconds]
    async with tenant_connection(pool, org) as conn:
        res = await upsert_clips(conn, org, sid, clips, "csv")
        assert res.earliest_new is not None
        return await refresh_bursts(conn, org, sid, res.earliest_new)


async def test_bridging_clips_merge_two_bursts_into_the_older(db_pool: asyncpg.Pool, settings: Settings) -> None:
    org = await make_org(db_pool)
    sid = await make_streamer(db_pool, org, settings, interval=60, min_clips=3)
    first = await _add(db_pool, org, sid, [0, 10, 20])
    second = await _add(db_pool, org, sid, [100, 110, 120])
    assert len(first.created) == 1 and len(second.created) == 1

    bridge = await _add(db_pool, org, sid, [50, 75])

    assert bridge.created == [] and bridge.grown == first.created and bridge.merged_away == second.created
    rows = await db_pool.fetch("SELECT id, clip_count, total_views FROM bursts")
    assert [(r["id"], r["clip_count"], r["total_views"]) for r in rows] == [(first.created[0], 8, 80)]
    assert await db_pool.fetchval("SELECT count(*) FROM burst_clips") == 8


async def test_refreshing_again_changes_nothing(db_pool: asyncpg.Pool, settings: Settings) -> None:
    org = await make_org(db_pool)
    sid = await make_streamer(db_pool, org, settings, interval=60, min_clips=3)
    await _add(db_pool, org, sid, [0, 30, 60, 500, 501])
    before = await db_pool.fetch("SELECT * FROM bursts")
    async with tenant_connection(db_pool, org) as conn:
        again = await refresh_bursts(conn, org, sid, T0 - timedelta(days=1))
    assert not again.changed
    assert await db_pool.fetch("SELECT * FROM bursts") == before
    assert [r["clip_count"] for r in before] == [3]  # exactly 3 clips exactly 60 s apart; 2 late ones are not


async def test_bursts_are_invisible_to_other_organizations(db_pool: asyncpg.Pool, settings: Settings) -> None:
    org_a, org_b = await make_org(db_pool, "A"), await make_org(db_pool, "B")
    sid = await make_streamer(db_pool, org_a, settings)
    await _add(db_pool, org_a, sid, [0, 1, 2])
    async with tenant_connection(db_pool, org_b) as conn:
        # No WHERE clause at all: row-level security alone hides A's rows from B.
        assert await conn.fetchval("SELECT count(*) FROM bursts") == 0
        assert await conn.fetchval("SELECT count(*) FROM clips") == 0
