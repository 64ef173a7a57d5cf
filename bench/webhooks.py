"""Signed LiveKit webhook ingestion: Escuta's route versus a bare verify-only FastAPI endpoint.

    .venv/bin/python bench/webhooks.py [--events 3000] [--concurrency 32] [--rounds 3] [--before-tree DIR]

Servers (uvicorn on 127.0.0.1, each on its own scratch database, fed the same kind of pre-signed events:
rooms starting, participants joining, tracks published, rooms ending):

- baseline: a bare FastAPI endpoint that only verifies the signature with livekit-api (one process);
- before: another checkout's Escuta (``--before-tree``, e.g. a worktree of main), one process;
- escuta: this tree, one process, then two processes sharing the port (``uvicorn --workers 2``).

The load generator is bench/loadgen.py's lean client (raw keep-alive HTTP/1.1, requests serialized before
the clock starts): aiohttp's client cost about as much CPU per event as the servers, on the same two cores,
so a second server process had no core to scale onto. Its own CPU per event is printed.
Rounds are interleaved and the median round is shown. Besides events/s (which depends on what else the
machine's cores do, the load generator included) each server's CPU per event is measured: events per
CPU-second is what one core sustains, the projection per core. After the run every Escuta database
is counted: each event acknowledged is stored exactly once, and the sessions, participants and tracks
are exactly those the events describe (nothing lost, nothing duplicated).
Database: ESCUTA_TEST_DATABASE_URL's server when set, else an embedded one; scratch databases are
created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import LoadResult, free_port, process_cpu_seconds, run_load_lean, start_uvicorn, stop
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


@dataclass
class Server:
    label: str
    app: str
    workers: int = 1
    tree: str | None = None
    stores: bool = True
    dsn: str = ""
    rounds: list[LoadResult] = field(default_factory=list)
    db_before: tuple[int, int] = (0, 0)
    db_after: tuple[int, int] = (0, 0)
    cpu_us: list[float] = field(default_factory=list)
    pg_us: list[float] = field(default_factory=list)
    sent: int = 0

    def median(self) -> tuple[LoadResult, float]:
        r = sorted(self.rounds, key=lambda x: x.rate)[len(self.rounds) // 2]
        return r, sorted(self.cpu_us)[len(self.cpu_us) // 2]


async def counts(dsn: str) -> tuple[int, int, int, int]:
    conn = await asyncpg.connect(dsn)
    try:
        return (
            await conn.fetchval("SELECT count(*) FROM livekit_events"),
            await conn.fetchval("SELECT count(*) FROM sessions"),
            await conn.fetchval("SELECT count(*) FROM session_participants"),
            await conn.fetchval("SELECT count(*) FROM session_tracks"),
        )
    finally:
        await conn.close()


async def db_activity(dsn: str) -> tuple[int, int]:
    """(transactions committed, rows inserted + updated) in the database so far (pg_stat_database)."""
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT xact_commit, tup_inserted + tup_updated AS rows FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
        assert row is not None
        return int(row["xact_commit"]), int(row["rows"])
    finally:
        await conn.close()


def postgres_cpu_seconds(database: str) -> float:
    """CPU used so far by the PostgreSQL backends connected to ``database`` (their process titles name it;
    the server's shared writers are left out, and so is every other database's work on this machine)."""
    total = 0.0
    for p in psutil.process_iter(["cmdline", "cpu_times"]):
        title = " ".join(p.info["cmdline"] or ())
        if title.startswith("postgres:") and f" {database} " in title and p.info["cpu_times"] is not None:
            total += p.info["cpu_times"].user + p.info["cpu_times"].system
    return total


def expected_counts(n_events: int) -> tuple[int, int, int]:
    """Sessions, participants, tracks that ``make_events(n)`` describes (10 events a room)."""
    rooms, rest = divmod(n_events, 10)
    parts = tracks = 4 * rooms
    if rest:
        rooms += 1
        parts += min(4, rest // 2)
        tracks += min(4, (rest - 1) // 2)
    return rooms, parts, tracks


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--before-tree", help="another checkout (e.g. a worktree of main) measured as 'before'")
    args = ap.parse_args()

    servers = [Server("baseline: verify-only FastAPI", "bench._webhook_baseline:app", stores=False)]
    if args.before_tree:
        servers.append(Server("before: escuta (--before-tree), 1 proc", "control_api.main:app", tree=args.before_tree))
    servers += [
        Server("escuta: 1 process", "control_api.main:app"),
        Server("escuta: 2 processes", "control_api.main:app", workers=2),
    ]
    admin, _embedded = admin_dsn()
    env = {"LIVEKIT_API_KEY": KEY, "LIVEKIT_API_SECRET": SECRET, "ESCUTA_LOG_LEVEL": "WARNING"}
    procs = []
    try:
        targets = []
        for i, srv in enumerate(servers):
            srv.dsn = await create_database(admin, prefix="escuta_bench")
            await migrate_dsn(srv.dsn)
            port = free_port()
            proc = start_uvicorn(
                srv.app, port, {**env, "ESCUTA_DATABASE_URL": srv.dsn}, workers=srv.workers, tree=srv.tree
            )
            procs.append(proc)
            url = f"http://127.0.0.1:{port}/livekit/webhook"
            # Warm-up with other ids so every measured event is stored for the first time.
            await run_load_lean("warmup", url, make_events(200, prefix=f"WU{i}"), 8)
            targets.append((srv, url, proc))
        await asyncio.sleep(1.5)  # backends flush their statistics at most once a second
        for srv in servers:
            if srv.stores:
                srv.db_before = await db_activity(srv.dsn)
        # Interleaved rounds, each on fresh events; the median round of each server is shown.
        loadgen_us: list[float] = []
        for rnd in range(args.rounds):
            events = make_events(args.events, prefix=f"R{rnd}")
            for srv, url, proc in targets:
                database = srv.dsn.rsplit("/", 1)[-1]
                before, mine, pg = process_cpu_seconds(proc), time.process_time(), postgres_cpu_seconds(database)
                result = await run_load_lean(srv.label, url, events, args.concurrency)
                srv.cpu_us.append((process_cpu_seconds(proc) - before) / len(events) * 1e6)
                srv.pg_us.append((postgres_cpu_seconds(database) - pg) / len(events) * 1e6)
                loadgen_us.append((time.process_time() - mine) / len(events) * 1e6)
                srv.rounds.append(result)
                srv.sent += len(events)
        for proc in procs:
            stop(proc)
        procs = []
        await asyncio.sleep(1.5)
        for srv in servers:
            if srv.stores:
                srv.db_after = await db_activity(srv.dsn)
        audit = [(srv, await counts(srv.dsn)) for srv in servers if srv.stores]
    finally:
        for proc in procs:
            stop(proc)
        for srv in servers:
            if srv.dsn:
                await drop_database(admin, srv.dsn)

    print(
        f"\nsigned webhook ingestion, {args.events} events x {args.rounds} interleaved rounds (median shown), "
        f"concurrency {args.concurrency}, {os.cpu_count()} cores shared by servers and load generator\n"
    )
    print(
        "| server                                 | events | errs | events/s | p50 ms | p99 ms "
        "| CPU µs/event | events/CPU-s |"
    )
    print(
        "|----------------------------------------|--------|------|----------|--------|--------|--------------|--------------|"
    )
    medians = [srv.median() for srv in servers]
    for srv, (r, cpu) in zip(servers, medians, strict=True):
        print(
            f"| {srv.label:<38} | {r.requests:>6} | {r.errors:>4} | {r.rate:>8.0f} | {r.pct(50):>6.2f} "
            f"| {r.pct(99):>6.2f} | {cpu:>12.0f} | {1e6 / cpu:>12.0f} |"
        )
    base_rate, base_cpu = medians[0][0].rate, medians[0][1]
    print()
    for srv, (r, cpu) in list(zip(servers, medians, strict=True))[1:]:
        print(
            f"{srv.label}: {r.rate / base_rate:.2f}x verify-only throughput, "
            f"{base_cpu / cpu:.2f}x its events per CPU-second"
        )
    one, two = medians[-2][0].rate, medians[-1][0].rate
    print(
        f"2 processes / 1 process: {two / one:.2f}x events/s on {os.cpu_count()} shared cores; projected per "
        f"core (CPU-bound): {1e6 / medians[-2][1]:.0f} events/s, so N cores ~ N x that until PostgreSQL limits"
    )
    print(
        f"load generator (this process): {sorted(loadgen_us)[len(loadgen_us) // 2]:.0f} µs CPU per event "
        "(raw keep-alive HTTP/1.1 with requests serialized before the clock starts, bench/loadgen.py)"
    )
    print("\ndatabase load of the measured rounds (pg_stat_database of each server's database):")
    for srv in servers:
        pg = sorted(srv.pg_us)[len(srv.pg_us) // 2]
        cores = (medians[servers.index(srv)][1] + pg) * medians[servers.index(srv)][0].rate / 1e6
        print(f"  {srv.label:<38} PostgreSQL {pg:.0f} µs CPU/event; server + PostgreSQL busy {cores:.2f} cores")
        if srv.stores:
            commits = srv.db_after[0] - srv.db_before[0] - 2  # this bench's own two reads
            rows = srv.db_after[1] - srv.db_before[1]
            print(f"  {srv.label:<38} {commits / srv.sent:.3f} commits/event, {rows / srv.sent:.2f} rows written/event")
    print("\nafter the run (events acknowledged vs rows stored):")
    failed = False
    for srv, (ev, sess, parts, tracks) in audit:
        want_sess, want_parts, want_tracks = expected_counts(args.events)
        want = (
            srv.sent + 200,
            args.rounds * want_sess + 20,
            args.rounds * want_parts + 80,
            args.rounds * want_tracks + 80,
        )
        ok = (ev, sess, parts, tracks) == want and all(r.errors == 0 for r in srv.rounds)
        failed |= not ok
        print(
            f"  {srv.label:<38} events {ev}/{want[0]}, sessions {sess}/{want[1]}, participants {parts}/{want[2]}, "
            f"tracks {tracks}/{want[3]}: {'exact' if ok else 'MISMATCH'}"
        )
    if failed or any(r.errors for srv in servers for r in srv.rounds):
        raise SystemExit("some requests failed or rows do not match the events")


if __name__ == "__main__":
    asyncio.run(main())
