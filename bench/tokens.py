"""`POST /token` under load: Escuta (device key, tenancy, dispatch) versus seed 003's bare endpoint.

    .venv/bin/python bench/tokens.py [--requests 4000] [--concurrency 32] [--users 50] [--rounds 3]
                                     [--before-tree DIR]

The servers are single uvicorn processes on 127.0.0.1, measured in interleaved rounds of the same run
with the same request bodies (the median round of each is reported). Escuta authenticates every request
with a device key (`bk_...`), checks the organization, looks up the solution's profile, registers the
room and signs a token carrying the grants, participant metadata and agent dispatch; the baseline only
signs, but it is tuned like Escuta (bench/_token_baseline.py: same stack and CORS middleware, same body
model, same fast signer and claims, same answer serialization), so the ratio is what Escuta's work costs.
It runs twice: as seed 003 mounts it (a FastAPI route) and as Escuta mounts its hot routes (a bare
Starlette route ahead of FastAPI's router); the second is the equally tuned one. With
``--before-tree`` another checkout's Escuta (e.g. a worktree of main) is measured in the same rounds,
on its own database. All are warmed up on the
same users first, so Escuta's one-time writes (room registry rows) are out of the measured window: the
figures are the steady state. The per-key rate limit is raised for the run (the default would stop a
single device at 120/min). The load generator shares the cores with the server: the ratio is the point.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.accounts import sign_up
from bench.loadgen import LoadResult, free_port, run_load, start_uvicorn, stop
from db.migrate import migrate_dsn
from tests.pg import admin_dsn, create_database, drop_database

KEY, SECRET = "benchkey", "bench-secret-0123456789abcdef0123456789"


async def provision(base: str) -> tuple[str, str]:
    """An organization with a solution and a registered device: (org id, device key)."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        org, headers = await sign_up(c, "bench@escuta.dev", "bench-password-123", "Bench")
        (await c.put("/solutions/AiHelper", json={"profile": "balcao"}, headers=headers)).raise_for_status()
        code = (await c.post("/cadastro/codigo", headers=headers)).json()["codigo"]
        r = await c.post("/cadastro/balcao", json={"nome_balcao": "Bench 01", "user_codigo": code})
        r.raise_for_status()
        return org, r.json()["api_key"]


def bodies(n: int, org: str, users: int, key: str | None) -> list[tuple[bytes, dict[str, str]]]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return [
        (json.dumps({"solution": "AiHelper", "clientId": org, "userId": f"user{i % users}"}).encode(), headers)
        for i in range(n)
    ]


def row(r: LoadResult) -> str:
    return (
        f"| {r.label:<40} | {r.requests:>6} | {r.errors:>4} | {r.rate:>8.0f} | {r.pct(50):>7.2f} | {r.pct(99):>7.2f} |"
    )


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--before-tree", help="another checkout (e.g. a worktree of main) measured as 'before'")
    args = ap.parse_args()

    admin, _embedded = admin_dsn()
    env = {
        "LIVEKIT_API_KEY": KEY,
        "LIVEKIT_API_SECRET": SECRET,
        "ESCUTA_LOG_LEVEL": "WARNING",
        "ESCUTA_RATE_LIMIT_TOKEN": "10000000/minute",
    }
    servers: list[tuple[str, str, str | None]] = [
        ("baseline: seed 003, tuned, FastAPI route", "bench._token_baseline:app", None),
        ("baseline: seed 003, tuned, fast route", "bench._token_baseline:fast_app", None),
    ]
    if args.before_tree:
        servers.append(("before: escuta (--before-tree)", "control_api.main:app", args.before_tree))
    servers.append(("escuta: device key + tenancy + dispatch", "control_api.main:app", None))
    rounds: dict[str, list[LoadResult]] = {label: [] for label, _, _ in servers}
    cpu_us: dict[str, list[float]] = {label: [] for label, _, _ in servers}
    procs = []
    dsns: list[str] = []
    try:
        targets = []
        for label, app_path, tree in servers:
            port = free_port()
            dsns.append(await create_database(admin, prefix="escuta_bench"))
            await migrate_dsn(dsns[-1])
            procs.append(start_uvicorn(app_path, port, {**env, "ESCUTA_DATABASE_URL": dsns[-1]}, tree=tree))
            base = f"http://127.0.0.1:{port}"
            org, key = (await provision(base)) if app_path.startswith("control_api") else ("123", None)
            await run_load("warmup", f"{base}/token", bodies(max(400, args.users * 4), org, args.users, key), 8)
            targets.append((label, f"{base}/token", bodies(args.requests, org, args.users, key)))
        # Interleaved rounds, median kept: the machine is shared, and a busy moment should not
        # land on one server only. Server CPU per token is measured too: unlike throughput, it does not
        # depend on what else the two cores are doing.
        for _ in range(args.rounds):
            for (label, url, reqs), proc in zip(targets, procs, strict=True):
                before = psutil.Process(proc.pid).cpu_times()
                result = await run_load(label, url, reqs, args.concurrency)
                after = psutil.Process(proc.pid).cpu_times()
                cpu_us[label].append((after.user + after.system - before.user - before.system) / len(reqs) * 1e6)
                rounds[label].append(result)
    finally:
        for proc in procs:
            stop(proc)
        for dsn in dsns:
            await drop_database(admin, dsn)
    results = [sorted(rs, key=lambda r: r.rate)[len(rs) // 2] for rs in rounds.values()]
    cpu = [sorted(cs)[len(cs) // 2] for cs in cpu_us.values()]

    print(
        f"\nPOST /token, {args.requests} requests x {args.rounds} interleaved rounds (median shown), "
        f"concurrency {args.concurrency}, {args.users} users, "
        f"{os.cpu_count()} cores shared by server and load generator\n"
    )
    print("| server                                   |   reqs | errs | tokens/s |  p50 ms |  p99 ms | CPU µs/token |")
    print("|------------------------------------------|--------|------|----------|---------|---------|--------------|")
    for r, c in zip(results, cpu, strict=True):
        print(f"{row(r)} {c:>12.0f} |")
    print()
    measured = [(label, r, c) for (label, _, _), r, c in zip(servers, results, cpu, strict=True)]
    baselines = [m for m in measured if "baseline" in m[0]]
    for label, r, c in measured:
        if "baseline" in label:
            continue
        for base_label, base_r, base_c in baselines:
            print(
                f"{label} / {base_label}: throughput {r.rate / base_r.rate:.2f}x; "
                f"p50 latency {r.pct(50) / base_r.pct(50):.2f}x, p99 {r.pct(99) / base_r.pct(99):.2f}x; "
                f"server CPU per token {c / base_c:.2f}x (tokens per CPU-second {base_c / c:.2f}x)"
            )
    if any(r.errors for r in results):
        raise SystemExit("some requests failed")


if __name__ == "__main__":
    asyncio.run(main())
