"""Ingestion against the Twitch stub: all pages, 429s, expired tokens, idempotency, bursts, trials."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg
import pytest

from core.settings import Settings
from db.credentials import put_credential
from db.pool import create_pool
from db.tenancy import tenant_connection
from jobs.clips.ingest import ClipIngestion
from jobs.scheduler import Job, Scheduler
from tests.clips.conftest import STUB_CLIENT_ID, STUB_CLIENT_SECRET
from tests.clips.factories import make_org, make_streamer
from tests.clips.twitch_stub import TwitchStub
from tests.clips.waiting import wait_for


@pytest.fixture
async def ingestion(db_pool: asyncpg.Pool, clip_settings: Settings) -> AsyncIterator[ClipIngestion]:
    job = ClipIngestion(db_pool, clip_settings)
    yield job
    await job.aclose()


def _recent(minutes: float) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes)


async def _clip_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM clips"))


async def test_pages_through_everything_and_is_idempotent(
    db_pool: asyncpg.Pool, clip_settings: Settings, twitch: TwitchStub, ingestion: ClipIngestion
) -> None:
    org = await make_org(db_pool)
    await make_streamer(db_pool, org, clip_settings)
    base = _recent(50)
    for i in range(250):  # one clip every 10 s: one long burst with the 3-in-60 s settings
        twitch.add_clip("100", f"clip{i:03d}", base + timedelta(seconds=10 * i), views=i)

    first = await ingestion.run()
    assert first["clips_new"] == 250 and first["failed"] == 0
    assert twitch.clip_requests["100"] == 3
    assert await _clip_count(db_pool) == 250
    bursts = await db_pool.fetch("SELECT id, clip_count FROM bursts")
    assert [b["clip_count"] for b in bursts] == [250]
    assert await db_pool.fetchval("SELECT count(*) FROM burst_clips") == 250

    second = await ingestion.run()
    assert second["clips_new"] == 0 and second["bursts_created"] == 0 and second["bursts_grown"] == 0
    assert await _clip_count(db_pool) == 250
    assert await db_pool.fetch("SELECT id, clip_count FROM bursts") == bursts


async def test_survives_a_429_and_an_expired_token(
    db_pool: asyncpg.Pool, clip_settings: Settings, twitch: TwitchStub, ingestion: ClipIngestion
) -> None:
    org = await make_org(db_pool)
    await make_streamer(db_pool, org, clip_settings)
    for i in range(120):
        twitch.add_clip("100", f"a{i}", _recent(40) + timedelta(minutes=i / 10))
    twitch.force_429 = 1
    assert (await ingestion.run())["clips_new"] == 120
    assert twitch.status_counts[429] == 1

    twitch.revoke_tokens()  # the cached app token is now rejected with 401
    twitch.add_clip("100", "late", _recent(1))
    result = await ingestion.run()
    assert result["clips_new"] == 1 and result["failed"] == 0
    assert twitch.token_requests == 2


async def test_a_growing_burst_keeps_its_id(
    db_pool: asyncpg.Pool, clip_settings: Settings, twitch: TwitchStub, ingestion: ClipIngestion
) -> None:
    org = await make_org(db_pool)
    await make_streamer(db_pool, org, clip_settings, interval=60, min_clips=3)
    t0 = _recent(5)  # within the overlap the next run re-reads
    for i, s in enumerate((0, 20, 40)):
        twitch.add_clip("100", f"c{i}", t0 + timedelta(seconds=s))
    assert (await ingestion.run())["bursts_created"] == 1
    burst_id = await db_pool.fetchval("SELECT id FROM bursts")

    for i, s in enumerate((60, 90), start=3):
        twitch.add_clip("100", f"c{i}", t0 + timedelta(seconds=s))
    result = await ingestion.run()
    assert result["bursts_created"] == 0 and result["bursts_grown"] == 1
    row = await db_pool.fetchrow("SELECT id, clip_count, started_at, ended_at FROM bursts")
    assert row is not None
    assert row["id"] == burst_id and row["clip_count"] == 5
    assert row["ended_at"] - row["started_at"] == timedelta(seconds=90)


async def test_expired_trials_are_skipped(
    db_pool: asyncpg.Pool, clip_settings: Settings, twitch: TwitchStub, ingestion: ClipIngestion
) -> None:
    org = await make_org(db_pool)
    await make_streamer(db_pool, org, clip_settings, twitch_user_id="100", trial_expires_at=_recent(1))
    await make_streamer(db_pool, org, clip_settings, twitch_user_id="200", trial_expires_at=_recent(-60))
    twitch.add_clip("100", "x", _recent(5))
    twitch.add_clip("200", "y", _recent(5))

    result = await ingestion.run()

    assert result["skipped_trial"] == 1 and result["streamers"] == 1
    assert twitch.clip_requests["100"] == 0 and twitch.clip_requests["200"] == 1
    assert await db_pool.fetchval("SELECT array_agg(clip_id) FROM clips") == ["y"]


async def test_a_failure_keeps_stored_clips_and_the_window(
    db_pool: asyncpg.Pool, clip_settings: Settings, twitch: TwitchStub, ingestion: ClipIngestion
) -> None:
    org = await make_org(db_pool)
    sid = await make_streamer(db_pool, org, clip_settings)
    twitch.add_clip("100", "kept", _recent(5))
    await ingestion.run()
    before = await db_pool.fetchval("SELECT last_ingested_at FROM streamers WHERE id = $1", sid)

    twitch.revoke_tokens()
    twitch.apps[STUB_CLIENT_ID] = "rotated-secret"  # the stored secret no longer works
    result = await ingestion.run()

    assert result["failed"] == 1
    row = await db_pool.fetchrow("SELECT last_ingested_at, last_ingestion_error FROM streamers WHERE id = $1", sid)
    assert row is not None
    assert row["last_ingested_at"] == before
    assert "refused" in row["last_ingestion_error"] and STUB_CLIENT_SECRET not in row["last_ingestion_error"]
    assert await _clip_count(db_pool) == 1


async def test_a_failing_streamer_is_logged_and_keeps_its_clips(
    db_pool: asyncpg.Pool, clip_settings: Settings, twitch: TwitchStub, caplog: pytest.LogCaptureFixture
) -> None:
    settings = clip_settings.replace(**{"twitch_max_retries": 1})  # one quick retry of the 500
    ingestion = ClipIngestion(db_pool, settings)
    org = await make_org(db_pool)
    ok_id = await make_streamer(db_pool, org, settings, twitch_user_id="100")
    failing_id = await make_streamer(db_pool, org, settings, twitch_user_id="200")
    twitch.add_clip("100", "a1", _recent(10))
    twitch.add_clip("200", "b1", _recent(10))
    assert (await ingestion.run())["clips_new"] == 2

    twitch.failing.add("200")  # Helix answers 500 for this broadcaster only
    twitch.add_clip("100", "a2", _recent(2))
    twitch.add_clip("200", "b2", _recent(2))
    caplog.set_level(logging.DEBUG)
    caplog.clear()  # only the failing run's records (an earlier test may have left INFO enabled)
    try:
        result = await ingestion.run()
    finally:
        await ingestion.aclose()

    assert result["failed"] == 1 and result["streamers"] == 1 and result["clips_new"] == 1
    failures = [r for r in caplog.records if getattr(r, "event", None) == "ingestion_streamer_failed"]
    assert len(failures) == 1
    failure = failures[0]
    assert failure.levelno == logging.WARNING and failure.name == "escuta.clips.ingest"
    assert vars(failure)["streamer_id"] == str(failing_id)
    assert "HTTP 500" in vars(failure)["error"]
    assert f"streamer_id={failing_id}" in failure.getMessage()
    finished = [r for r in caplog.records if getattr(r, "event", None) == "ingestion_finished"]
    assert len(finished) == 1 and vars(finished[0])["failed"] == 1
    # No secret anywhere in what was logged: not the client secret, not an access token.
    logged = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert STUB_CLIENT_SECRET not in logged
    assert twitch.tokens and not any(token in logged for token in twitch.tokens)
    # The clips stored before are kept; the other streamer went on; the failure shows on the stream.
    stored = await db_pool.fetch("SELECT clip_id FROM clips ORDER BY clip_id")
    assert [r["clip_id"] for r in stored] == ["a1", "a2", "b1"]
    errors = {r["id"]: r["last_ingestion_error"] for r in await db_pool.fetch("SELECT * FROM streamers")}
    assert errors[ok_id] is None and "HTTP 500" in errors[failing_id]


async def test_organization_credential_is_used_in_shared_mode(
    db_pool: asyncpg.Pool, clip_settings: Settings, twitch: TwitchStub, ingestion: ClipIngestion
) -> None:
    org = await make_org(db_pool)
    await make_streamer(db_pool, org, clip_settings, own_app=False)
    twitch.add_clip("100", "z", _recent(3))
    assert (await ingestion.run())["failed"] == 1  # no credential anywhere yet

    async with tenant_connection(db_pool, org) as conn:
        await put_credential(conn, org, "twitch", f"{STUB_CLIENT_ID}:{STUB_CLIENT_SECRET}", clip_settings)
    result = await ingestion.run()
    assert result["failed"] == 0 and result["clips_new"] == 1


async def test_two_schedulers_ingest_once_per_interval(
    db_pool: asyncpg.Pool, database_url: str, clip_settings: Settings, twitch: TwitchStub
) -> None:
    org = await make_org(db_pool)
    await make_streamer(db_pool, org, clip_settings)
    twitch.add_clip("100", "only", _recent(2))
    pools = [await create_pool(database_url, min_size=1, max_size=4) for _ in range(2)]
    ingestions = [ClipIngestion(p, clip_settings) for p in pools]
    schedulers = [
        Scheduler(p, [Job("clips.ingest", 0.5, ing.run)], tick=0.05, lease=10)
        for p, ing in zip(pools, ingestions, strict=True)
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(s.run(stop)) for s in schedulers]
    try:
        await wait_for(
            lambda: db_pool.fetchval("SELECT count(*) >= 4 FROM scheduler_runs WHERE status = 'ok'"),
            what="four ingestion runs",
        )
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for ing in ingestions:
            await ing.aclose()
        for p in pools:
            await p.close()

    runs = await db_pool.fetch("SELECT started_at FROM scheduler_runs WHERE status = 'ok' ORDER BY started_at")
    assert twitch.clip_requests["100"] == len(runs)  # one Twitch pass per run, whichever process ran it
    for a, b in itertools.pairwise(runs):
        assert (b["started_at"] - a["started_at"]).total_seconds() >= 0.5
    assert await _clip_count(db_pool) == 1


async def test_nothing_is_lost_to_helix_approximate_result_cap(
    db_pool: asyncpg.Pool, clip_settings: Settings, twitch: TwitchStub, ingestion: ClipIngestion
) -> None:
    """Each query stops somewhere between 900 and 1,000 results, as Helix's does, without a cursor or an
    error; splitting only at 1,000 would have kept the first ~950 of these 2,400 and lost the rest."""
    org = await make_org(db_pool)
    await make_streamer(db_pool, org, clip_settings)
    assert twitch.result_cap == (900, 1000)
    for i in range(2400):  # one clip every second, 40 minutes ago onwards
        twitch.add_clip("100", f"many{i:04d}", _recent(45) + timedelta(seconds=i), views=i % 97)

    result = await ingestion.run()

    assert twitch.truncated >= 1  # the cap was really reached (and never reported by the stub)
    assert result["clips_new"] == 2400 and result["failed"] == 0
    assert await _clip_count(db_pool) == 2400
    # The cost: one query of ~10 pages per window, four levels of halves; the rate bucket is never hit.
    assert twitch.clip_requests["100"] < 150 and twitch.status_counts[429] == 0


async def test_a_page_sequence_that_ends_early_is_split(
    db_pool: asyncpg.Pool, clip_settings: Settings, twitch: TwitchStub, ingestion: ClipIngestion
) -> None:
    """Far below the split threshold: two full pages and no cursor while 350 clips exist."""
    org = await make_org(db_pool)
    await make_streamer(db_pool, org, clip_settings)
    twitch.max_pages = 2
    for i in range(350):
        twitch.add_clip("100", f"early{i:03d}", _recent(40) + timedelta(seconds=6 * i), views=i)

    result = await ingestion.run()

    assert twitch.truncated >= 1
    assert result["clips_new"] == 350 and await _clip_count(db_pool) == 350


async def test_more_than_the_cap_in_one_minute_is_logged_not_silent(
    db_pool: asyncpg.Pool,
    clip_settings: Settings,
    twitch: TwitchStub,
    ingestion: ClipIngestion,
    caplog: pytest.LogCaptureFixture,
) -> None:
    org = await make_org(db_pool)
    await make_streamer(db_pool, org, clip_settings)
    # Helix's cap and our split threshold scaled down: 150 clips in one minute cannot all be had.
    twitch.result_cap, ingestion.split_at = (90, 100), 50
    minute = _recent(20).replace(second=0)
    for i in range(150):
        twitch.add_clip("100", f"viral{i:03d}", minute + timedelta(seconds=i % 60), views=i)
    caplog.set_level(logging.INFO, logger="escuta.clips.ingest")

    result = await ingestion.run()

    capped = [r for r in caplog.records if getattr(r, "event", None) == "ingestion_window_capped"]
    assert capped and all(vars(r)["broadcaster_id"] == "100" for r in capped)
    assert 90 <= result["clips_new"] < 150  # the most viewed ones, as Helix answers


async def _paused_since(pool: asyncpg.Pool, streamer_id: UUID, days: float) -> None:
    await pool.execute(
        "UPDATE streamers SET last_ingested_at = now() - make_interval(secs => $2) WHERE id = $1",
        streamer_id,
        days * 86400,
    )


async def test_a_streamer_paused_for_ten_days_catches_up_a_week_per_run(
    db_pool: asyncpg.Pool, clip_settings: Settings, twitch: TwitchStub, ingestion: ClipIngestion
) -> None:
    org = await make_org(db_pool)
    sid = await make_streamer(db_pool, org, clip_settings)
    await _paused_since(db_pool, sid, 10)
    ages = {"d9": 9 * 1440, "d8": 8 * 1440, "d4": 4 * 1440, "d1": 1440, "now": 10}
    for name, minutes in ages.items():
        twitch.add_clip("100", name, _recent(minutes))

    first = await ingestion.run()
    # The oldest week first (ten days ago, less the overlap, to a week later); the rest on the next run.
    assert first["clips_new"] == 3
    assert await db_pool.fetchval("SELECT array_agg(clip_id ORDER BY clip_id) FROM clips") == ["d4", "d8", "d9"]
    behind = await db_pool.fetchval("SELECT now() - last_ingested_at FROM streamers WHERE id = $1", sid)
    assert timedelta(days=3) < behind < timedelta(days=3, hours=1)

    second = await ingestion.run()
    assert second["clips_new"] == 2 and await _clip_count(db_pool) == 5
    behind = await db_pool.fetchval("SELECT now() - last_ingested_at FROM streamers WHERE id = $1", sid)
    assert behind < timedelta(minutes=1)


async def test_a_pause_longer_than_the_catch_up_limit_gives_up_only_the_oldest_and_says_so(
    db_pool: asyncpg.Pool,
    clip_settings: Settings,
    twitch: TwitchStub,
    ingestion: ClipIngestion,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert clip_settings.clips.ingestion_max_catchup_days == 30
    org = await make_org(db_pool)
    sid = await make_streamer(db_pool, org, clip_settings)
    await _paused_since(db_pool, sid, 40)
    for name, days in (("d35", 35), ("d29", 29), ("d20", 20)):
        twitch.add_clip("100", name, _recent(days * 1440))
    caplog.set_level(logging.INFO, logger="escuta.clips.ingest")

    for _ in range(5):  # 30 days in weekly steps
        await ingestion.run()

    assert await db_pool.fetchval("SELECT array_agg(clip_id ORDER BY clip_id) FROM clips") == ["d20", "d29"]
    [clamped] = [r for r in caplog.records if getattr(r, "event", None) == "ingestion_catchup_clamped"]
    assert vars(clamped)["streamer_id"] == str(sid)
    skipped = datetime.fromisoformat(vars(clamped)["skipped_until"]) - datetime.fromisoformat(
        vars(clamped)["skipped_from"]
    )
    assert timedelta(days=10) < skipped < timedelta(days=10, hours=1)
    steps = [r for r in caplog.records if getattr(r, "event", None) == "ingestion_catching_up"]
    assert len(steps) == 4  # the fifth run reached now
