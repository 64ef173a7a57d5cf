"""Burst detection over a million clips, and clip ingestion throughput against the Twitch stub.

    .venv/bin/python bench/bursts.py [--streamers 1000] [--clips-per-streamer 1000]
                                     [--ingest-streamers 20] [--ingest-clips 2500]

1. Detection: ``streamers x clips-per-streamer`` generated clip times (a week of background clips per
   streamer plus clustered moments), run through ``detect_bursts`` streamer by streamer, as ingestion
   and the CSV import do. Reports wall time, clips/s, and peak memory (tracemalloc, measured in a
   second pass so it does not slow the timed one; the clip times themselves are counted separately).
2. Ingestion: one ``clips.ingest`` run against the stub on 127.0.0.1 (token, paged Helix clips) into a
   scratch PostgreSQL database: fetch, upsert and burst refresh, end to end. The stub runs in the same
   process and its rate limit is raised out of the way, so the figure is Escuta's floor, not Twitch's
   (real Helix allows ~800 requests/min = 80,000 clips/min per application).
Database: ESCUTA_TEST_DATABASE_URL's server when set, else an embedded one.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.clips.bursts import detect_bursts
from core.settings import Settings
from db.clips import StreamerInput, upsert_streamer
from db.migrate import migrate_dsn
from db.pool import create_pool
from db.tenancy import tenant_connection
from jobs.clips.ingest import ClipIngestion
from tests.clips.twitch_stub import TwitchStub
from tests.pg import admin_dsn, create_database, drop_database

WEEK = 7 * 86_400.0
INTERVAL, MIN_CLIPS = 120, 5  # the balanced preset


def streamer_times(rng: random.Random, n: int, t0: float, span: float = WEEK) -> list[float]:
    """``span`` of clips: 70 % scattered, 30 % in moments of 5-40 clips within a couple of minutes."""
    times = [t0 + rng.random() * span for _ in range(int(n * 0.7))]
    while len(times) < n:
        center = t0 + rng.random() * span
        times.extend(center + rng.random() * 150 for _ in range(min(rng.randint(5, 40), n - len(times))))
    times.sort()
    return times


def bench_detection(streamers: int, per_streamer: int) -> None:
    rng = random.Random(4)
    t0 = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    tracemalloc.start()
    data = [streamer_times(rng, per_streamer, t0) for _ in range(streamers)]
    data_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    total = sum(len(d) for d in data)

    start = time.perf_counter()
    bursts = sum(len(detect_bursts(d, INTERVAL, MIN_CLIPS)) for d in data)
    elapsed = time.perf_counter() - start

    tracemalloc.start()
    for d in data:
        detect_bursts(d, INTERVAL, MIN_CLIPS)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"detection: {total:,} clips of {streamers:,} streamers -> {bursts:,} bursts")
    print(f"  time {elapsed:.2f} s ({total / elapsed:,.0f} clips/s)")
    print(f"  clip times in memory {data_bytes / 2**20:.1f} MiB; detection peak extra {peak / 1024:.1f} KiB")
    print(f"  process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


async def bench_ingestion(streamers: int, per_streamer: int) -> None:
    admin, _embedded = admin_dsn()
    dsn = await create_database(admin, prefix="escuta_bench")
    stub = TwitchStub(apps={"benchclient": "benchsecret"}, bucket_limit=10**9)
    await stub.start()
    try:
        await migrate_dsn(dsn)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=dsn,
            twitch_api_base_url=stub.api_base_url,
            twitch_id_base_url=stub.id_base_url,
            clips_ingestion_lookback_seconds=6 * 86_400,
        )
        pool = await create_pool(dsn, settings, min_size=2, max_size=8)
        org = await pool.fetchval("INSERT INTO organizations (name) VALUES ('bench') RETURNING id")
        rng = random.Random(8)
        now = datetime.now(UTC).timestamp()
        for s in range(streamers):
            uid = str(1000 + s)
            data = StreamerInput(
                uid, f"s{s}", None, "balanced", INTERVAL, MIN_CLIPS, "client", None, "benchclient", "benchsecret"
            )
            async with tenant_connection(pool, org) as conn:
                await upsert_streamer(conn, org, data, settings)
            # Five days of clips ending an hour ago, all inside the six-day first-ingestion lookback.
            for i, t in enumerate(streamer_times(rng, per_streamer, now - 5 * 86_400 - 3600, 5 * 86_400 - 600)):
                stub.add_clip(uid, f"c{uid}x{i}", datetime.fromtimestamp(t, UTC))
        ingestion = ClipIngestion(pool, settings)
        start = time.perf_counter()
        result = await ingestion.run()
        elapsed = time.perf_counter() - start
        await ingestion.aclose()
        total = streamers * per_streamer
        print(f"ingestion: {streamers} streamers x {per_streamer:,} clips via the stub into PostgreSQL")
        print(
            f"  time {elapsed:.2f} s ({result['clips_new'] / elapsed:,.0f} clips/s), "
            f"{sum(stub.clip_requests.values())} Helix requests, result {result}"
        )
        assert result["clips_new"] == total, result
        await pool.close()
    finally:
        await stub.stop()
        await drop_database(admin, dsn)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--streamers", type=int, default=1000)
    p.add_argument("--clips-per-streamer", type=int, default=1000)
    p.add_argument("--ingest-streamers", type=int, default=20)
    p.add_argument("--ingest-clips", type=int, default=2500)
    args = p.parse_args()
    bench_detection(args.streamers, args.clips_per_streamer)
    if args.ingest_streamers > 0:
        asyncio.run(bench_ingestion(args.ingest_streamers, args.ingest_clips))


if __name__ == "__main__":
    main()
