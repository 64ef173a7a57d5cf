"""Signed LiveKit webhook ingestion: Escuta's route versus a bare verify-only FastAPI endpoint.

    .venv/bin/python bench/webhooks.py [--events 3000] [--concurrency 32]

Both servers are single uvicorn processes on 127.0.0.1, measured one after the other with the same
pre-signed events (a realistic mix: rooms starting, participants joining, tracks published, rooms
ending), so the ratio compares the routes, not the machine. The load generator shares the machine's
cores with the server: absolute figures are a floor, the ratio is the point.
Database: ESCUTA_TEST_DATABASE_URL's server when set, else an embedded one; a scratch database is
created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import LoadResult, free_port, run_load, start_uvicorn, stop
from db.migrate import migrate_dsn
from tests.pg import admin_dsn, create_database, drop_database
from tests.webhook_signing import event_body, sign

KEY, SECRET = "benchkey", "bench-secret-0123456789abcdef0123456789"


def make_events(n: int, prefix: str = "RM") -> list[tuple[bytes, dict[str, str]]]:
    out: list[bytes] = []
    t0 = 1_763_712_000
    i = 0
    room = 0
    while len(out) < n:
        sid, name = f"{prefix}_{room:06d}", f"{prefix}-room-{room}"
        seq = [event_body("room_started", room_sid=sid, room_name=name, created_at=t0 + i)]
        for p in range(4):
            part = {"sid": f"PA_{room}_{p}", "identity": f"user-{p}", "joined_at": t0 + i + p}
            seq.append(
                event_body("participant_joined", room_sid=sid, room_name=name, created_at=t0 + i + p, participant=part)
            )
            seq.append(
                event_body(
                    "track_published",
                    room_sid=sid,
                    room_name=name,
                    created_at=t0 + i + p,
                    participant=part,
                    track={"sid": f"TR_{room}_{p}", "type": 0, "source": 2},
                )
            )
        seq.append(event_body("room_finished", room_sid=sid, room_name=name, created_at=t0 + i + 60))
        out.extend(seq)
        room += 1
        i += 100
    headers = {"Content-Type": "application/webhook+json"}
    return [(b, {**headers, "Authorization": sign(b, KEY, SECRET)}) for b in out[:n]]


def row(r: LoadResult) -> str:
    return (
        f"| {r.label:<34} | {r.requests:>6} | {r.errors:>4} | {r.rate:>9.0f} | {r.pct(50):>8.2f} | {r.pct(99):>8.2f} |"
    )


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()

    admin, _embedded = admin_dsn()
    dsn = await create_database(admin, prefix="escuta_bench")
    await migrate_dsn(dsn)
    env = {
        "LIVEKIT_API_KEY": KEY,
        "LIVEKIT_API_SECRET": SECRET,
        "ESCUTA_DATABASE_URL": dsn,
        "ESCUTA_LOG_LEVEL": "WARNING",
    }
    events = make_events(args.events)
    warm = make_events(200, prefix="WU")
    results = []
    try:
        for label, app_path in (
            ("baseline: verify-only FastAPI", "bench._webhook_baseline:app"),
            ("escuta: verify + store + sessions", "control_api.main:app"),
        ):
            port = free_port()
            proc = start_uvicorn(app_path, port, env)
            try:
                url = f"http://127.0.0.1:{port}/livekit/webhook"
                # Warm-up with different ids so the measured run stores every event for the first time.
                await run_load("warmup", url, warm, 8)
                results.append(await run_load(label, url, events, args.concurrency))
            finally:
                stop(proc)
    finally:
        await drop_database(admin, dsn)

    print(
        f"\nsigned webhook ingestion, {args.events} events, concurrency {args.concurrency}, "
        f"{os.cpu_count()} cores shared by server and load generator\n"
    )
    print("| server                             | events | errs |  events/s |  p50 ms  |  p99 ms  |")
    print("|------------------------------------|--------|------|-----------|----------|----------|")
    for r in results:
        print(row(r))
    base, esc = results
    print(
        f"\nescuta / baseline throughput: {esc.rate / base.rate:.2f}x; "
        f"p50 latency {esc.pct(50) / base.pct(50):.2f}x, p99 {esc.pct(99) / base.pct(99):.2f}x"
    )
    if base.errors or esc.errors:
        raise SystemExit("some requests failed")


if __name__ == "__main__":
    asyncio.run(main())
