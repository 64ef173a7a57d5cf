"""`escuta jobs` as real processes: two start, one leads; killing the leader hands ingestion over within
one interval (the settings refuse a lease plus tick that would not allow it: test_scheduler_settings.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from core.settings import Settings
from tests.clips.conftest import STUB_CLIENT_SECRET
from tests.clips.factories import make_org, make_streamer
from tests.clips.twitch_stub import TwitchStub
from tests.clips.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
TICK, LEASE, INTERVAL = 0.1, 1.0, 2.0  # seconds; lease + tick < interval, as the settings require


def _spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "escuta.cli", "jobs"], cwd=ROOT, env=env, stderr=out)


async def test_a_killed_leader_is_replaced(
    db_pool: asyncpg.Pool, database_url: str, clip_settings: Settings, twitch: TwitchStub, tmp_path: Path
) -> None:
    org = await make_org(db_pool)
    await make_streamer(db_pool, org, clip_settings)
    twitch.add_clip("100", "only", datetime.now(UTC) - timedelta(minutes=2))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ESCUTA_")},
        "PYTHONPATH": str(ROOT),
        "ESCUTA_DATABASE_URL": database_url,
        "ESCUTA_LOG_FORMAT": "json",
        "ESCUTA_SCHEDULER_TICK_SECONDS": str(TICK),
        "ESCUTA_SCHEDULER_LEASE_SECONDS": str(LEASE),
        "ESCUTA_CLIPS_INGESTION_INTERVAL_SECONDS": str(INTERVAL),
        "ESCUTA_TWITCH_API_BASE_URL": twitch.api_base_url,
        "ESCUTA_TWITCH_ID_BASE_URL": twitch.id_base_url,
    }
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = [_spawn(env, log) for log in logs]
    try:
        await wait_for(
            lambda: db_pool.fetchval("SELECT count(*) > 0 FROM scheduler_runs WHERE status = 'ok'"),
            what="a first ingestion",
        )
        holder: str = await db_pool.fetchval("SELECT holder FROM scheduler_lease")
        pid = int(holder.split(":")[1])
        leader = next(p for p in procs if p.pid == pid)
        survivor = next(p for p in procs if p.pid != pid)
        leader.send_signal(signal.SIGKILL)  # no clean-up: its lease has to run out
        leader.wait()
        killed_at = await db_pool.fetchval("SELECT now()")

        await wait_for(
            lambda: db_pool.fetchval(
                "SELECT count(*) >= 2 FROM scheduler_runs WHERE status = 'ok' AND started_at > $1 AND run_by LIKE $2",
                killed_at,
                f"%:{survivor.pid}:%",
            ),
            what="the survivor to take over ingestion",
        )
        assert await db_pool.fetchval("SELECT count(*) FROM clips") == 1
        lease = await db_pool.fetchrow("SELECT holder, acquired_at FROM scheduler_lease")
        assert lease is not None and lease["holder"].split(":")[1] == str(survivor.pid)

        # How fast, from the scheduler's own records (database clock), not from the test's sleeps. In
        # theory the lease passes at most lease + tick after the kill (< one interval), so the next run
        # starts when it is due, at most interval + tick after the kill and at most interval + lease + tick
        # after the dead leader's last run; the bounds leave about a second of room for a loaded machine.
        runs = await db_pool.fetch(
            "SELECT run_by, started_at FROM scheduler_runs WHERE job = 'clips.ingest' ORDER BY started_at"
        )
        last_before = max(r["started_at"] for r in runs if r["started_at"] <= killed_at)
        first_after = min(
            r["started_at"] for r in runs if r["started_at"] > killed_at and r["run_by"] == lease["holder"]
        )
        assert (lease["acquired_at"] - killed_at).total_seconds() < INTERVAL, "leader replaced within one interval"
        assert (first_after - killed_at).total_seconds() < INTERVAL + LEASE, (
            "the next run was not delayed by more than a lease"
        )
        assert (first_after - last_before).total_seconds() < INTERVAL + LEASE + 4 * TICK, (
            "runs no further apart than interval + lease"
        )

        survivor.send_signal(signal.SIGTERM)  # a clean stop releases the lease and says goodbye
        assert survivor.wait(timeout=60) == 0
        stopped = await db_pool.fetchval(
            "SELECT stopped_at IS NOT NULL FROM scheduler_instances WHERE pid = $1", survivor.pid
        )
        assert stopped
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    text = "".join(log.read_text(errors="replace") for log in logs)
    assert '"event": "ingestion_finished"' in text
    assert STUB_CLIENT_SECRET not in text
