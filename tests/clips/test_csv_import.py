"""CSV import (seed 004 columns): line-numbered errors, all-or-nothing files, idempotent, dry run."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from core.settings import Settings
from jobs.clips.csv_import import ImportRejected, ImportReport, import_csv
from tests.clips.factories import make_org

STREAMER_HEADER = (
    "twitch_user_id,display_name,avatar_url,monitor_interval_seconds,monitor_min_clips,api_mode,"
    "trial_expires_at,client_twitch_client_id,client_twitch_client_secret"
)
STREAMERS = (
    STREAMER_HEADER
    + """
100,Gaules,https://cdn.example/a.png,60,3,shared,,,
200,Alanzoka,,,,client,2030-01-01T00:00:00Z,cid-200,secret-200-abcdef
"""
)
CLIPS = """clip_id,streamer_twitch_user_id,created_at,viewer_count,video_id,title,duration
c1,100,2026-05-01T20:00:00Z,10,v1,"first, with a comma",30
c2,100,2026-05-01T20:00:30Z,20,v1,second,28.5
c3,100,2026-05-01T20:01:00Z,30,,third,60
c4,200,2026-05-01T21:00:00,5,,lonely,12
"""


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


async def _counts(pool: asyncpg.Pool) -> tuple[int, int, int, int]:
    row = await pool.fetchrow(
        "SELECT (SELECT count(*) FROM streamers) s, (SELECT count(*) FROM clips) c, "
        "(SELECT count(*) FROM bursts) b, (SELECT count(*) FROM burst_clips) bc"
    )
    assert row is not None
    return (row["s"], row["c"], row["b"], row["bc"])


async def _import(pool: asyncpg.Pool, settings: Settings, org: UUID, tmp: Path, **kw: Any) -> ImportReport:
    return await import_csv(
        pool,
        settings,
        org,
        streamers_csv=write(tmp, "streamers.csv", str(kw.pop("streamers", STREAMERS))),
        clips_csv=write(tmp, "clipes.csv", str(kw.pop("clips", CLIPS))),
        **kw,
    )


async def test_import_is_complete_and_idempotent(db_pool: asyncpg.Pool, settings: Settings, tmp_path: Path) -> None:
    org = await make_org(db_pool)
    report = await _import(db_pool, settings, org, tmp_path)
    assert (report.streamers_created, report.clips_new, report.bursts_created) == (2, 4, 1)
    assert await _counts(db_pool) == (2, 4, 1, 3)  # c1..c3: 3 clips in exactly 60 s
    s200 = await db_pool.fetchrow(
        "SELECT api_mode, twitch_client_secret, monitor_preset FROM streamers WHERE twitch_user_id='200'"
    )
    assert s200 is not None
    assert s200["api_mode"] == "client" and b"secret-200" not in bytes(s200["twitch_client_secret"])
    assert s200["monitor_preset"] == "balanced"  # empty monitoring columns: the default preset
    naive = await db_pool.fetchval("SELECT created_at FROM clips WHERE clip_id = 'c4'")
    assert naive.isoformat() == "2026-05-01T21:00:00+00:00"

    again = await _import(db_pool, settings, org, tmp_path)
    assert (again.streamers_created, again.clips_new, again.bursts_created, again.bursts_grown) == (0, 0, 0, 0)
    assert await _counts(db_pool) == (2, 4, 1, 3)


async def test_bad_rows_are_reported_with_line_numbers_and_nothing_changes(
    db_pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    org = await make_org(db_pool)
    bad_clips = CLIPS + (
        "c5,100,yesterday,1,,t,1\n"  # line 6
        "c6,999,2026-05-01T20:00:00Z,1,,t,1\n"  # line 7: unknown streamer
        'c7,100,2026-05-01T20:00:00Z,-3,,"multi\nline title",1\n'  # line 8 (and 9)
        "c1,100,2026-05-01T20:00:00Z,1,,dup,1\n"  # line 10
        "c8,100,2026-05-01T20:00:00Z,1,,t,abc\n"  # line 11
    )
    bad_streamers = STREAMERS + "300,,,,,,,,\n" + "400,X,,5,3,,,,\n"  # lines 4 and 5
    with pytest.raises(ImportRejected) as info:
        await _import(db_pool, settings, org, tmp_path, streamers=bad_streamers, clips=bad_clips)
    got = [str(e) for e in info.value.errors]
    assert got == [
        "clipes.csv:6: created_at: not an ISO-8601 date/time: 'yesterday'",
        "clipes.csv:7: streamer_twitch_user_id: unknown streamer 999",
        "clipes.csv:8: viewer_count: must be at least 0",
        "clipes.csv:10: clip_id: duplicate of line 2",
        "clipes.csv:11: duration: not a number: 'abc'",
        "streamers.csv:4: display_name: is required",
        "streamers.csv:5: monitor_interval_seconds: must be between 10 and 86400 seconds",
    ]
    assert await _counts(db_pool) == (0, 0, 0, 0)

    report = await _import(
        db_pool, settings, org, tmp_path, streamers=bad_streamers, clips=bad_clips, skip_invalid=True
    )
    assert len(report.skipped) == 7
    assert await _counts(db_pool) == (2, 4, 1, 3)


async def test_wrong_header_is_one_error(db_pool: asyncpg.Pool, settings: Settings, tmp_path: Path) -> None:
    org = await make_org(db_pool)
    with pytest.raises(ImportRejected) as info:
        await _import(db_pool, settings, org, tmp_path, clips="clip,streamer\nx,1\n")
    assert [str(e) for e in info.value.errors] == [
        "clipes.csv:1: missing columns clip_id, streamer_twitch_user_id, created_at, viewer_count, video_id, "
        "title, duration; unknown columns clip, streamer"
    ]


async def test_dry_run_counts_but_writes_nothing(db_pool: asyncpg.Pool, settings: Settings, tmp_path: Path) -> None:
    org = await make_org(db_pool)
    report = await _import(db_pool, settings, org, tmp_path, dry_run=True)
    assert (report.streamers_created, report.clips_new, report.bursts_created) == (2, 4, 1)
    assert await _counts(db_pool) == (0, 0, 0, 0)


async def test_progress_is_reported_per_chunk(db_pool: asyncpg.Pool, settings: Settings, tmp_path: Path) -> None:
    org = await make_org(db_pool)
    header = CLIPS.splitlines()[0]
    rows = [f"p{i},100,2026-05-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z,1,,t,30" for i in range(2500)]
    calls: list[tuple[str, int, int]] = []

    await _import(
        db_pool, settings, org, tmp_path, clips="\n".join([header, *rows]) + "\n", progress=lambda *a: calls.append(a)
    )

    assert calls == [("streamers", 2, 2), ("clips", 1000, 2500), ("clips", 2000, 2500), ("clips", 2500, 2500)]


async def test_empty_optional_columns_keep_what_is_stored(
    db_pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    """Issue 14.6: re-importing a streamer without its (never exported) secret wiped the stored credentials."""
    org = await make_org(db_pool)
    await _import(db_pool, settings, org, tmp_path)
    columns = (
        "api_mode, twitch_client_id, twitch_client_secret, twitch_secret_hint, trial_expires_at, "
        "monitor_preset, avatar_url"
    )
    query = f"SELECT {columns} FROM streamers WHERE twitch_user_id = $1"
    before = {uid: dict(await db_pool.fetchrow(query, uid) or {}) for uid in ("100", "200")}
    assert before["200"]["twitch_client_secret"] is not None
    for rows in ("100,Gaules,,,,,,,\n200,Alanzoka,,,,,,,\n", "100,Gaules,,,,shared,,,\n200,Alanzoka,,,,client,,,\n"):
        report = await _import(
            db_pool,
            settings,
            org,
            tmp_path,
            streamers=STREAMER_HEADER + "\n" + rows,
            clips=CLIPS.splitlines()[0] + "\n",
        )
        assert report.streamers_updated == 2
        after = {uid: dict(await db_pool.fetchrow(query, uid) or {}) for uid in ("100", "200")}
        assert after == before
    # A new value still replaces the stored one.
    rows = "200,Alanzoka,,,,,,cid-new,secret-new-0123456789\n"
    await _import(
        db_pool, settings, org, tmp_path, streamers=STREAMER_HEADER + "\n" + rows, clips=CLIPS.splitlines()[0] + "\n"
    )
    assert await db_pool.fetchval("SELECT twitch_client_id FROM streamers WHERE twitch_user_id = '200'") == "cid-new"
    # Client mode with nothing stored to keep is refused with its line, and nothing is written.
    rows = "300,Novo,,,,client,,,\n"
    with pytest.raises(ImportRejected) as info:
        await _import(
            db_pool,
            settings,
            org,
            tmp_path,
            streamers=STREAMER_HEADER + "\n" + rows,
            clips=CLIPS.splitlines()[0] + "\n",
        )
    assert [str(e) for e in info.value.errors] == [
        "streamers.csv:2: api_mode: client mode needs client_twitch_client_id and client_twitch_client_secret "
        "(none are stored)"
    ]
    assert await db_pool.fetchval("SELECT count(*) FROM streamers") == 2
