"""Is the API's event loop free? `POST /token` latency alone, then while logins and a catalog upload run.

    nice -n 10 .venv/bin/python bench/event_loop.py [--requests 1000] [--rounds 3] [--concurrency 4] [--logins 20]

One real API process (uvicorn, `control_api.main:app`) on a fresh PostgreSQL database. Phase 1 measures
`POST /token` (device key) alone. Phase 2 measures the same requests while, in the background,
`--logins` clients log in continuously (half with the right password, half with a wrong one: Argon2
either way) and one client uploads a 4 MB catalog CSV to `POST /catalog/import?dry_run=true` over and
over (parsed and validated in full; dry-run so every round does the same work), all from a separate
process so that the measuring client is not slowed by them. Work that runs on the event loop delays
every other request; work moved off it only competes for CPU. The goal (issue 14.3):
`/token` p99 under load <= 2x p99 alone. Both phases are repeated `--rounds` times, interleaved, and the
median round is reported. The load generator shares the machine's cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench.loadgen import LoadResult, free_port, start_uvicorn, stop
from bench.tokens import KEY, SECRET, bodies, provision
from db.migrate import migrate_dsn
from tests.pg import admin_dsn, create_database, drop_database

EMAIL, PASSWORD = "bench@escuta.dev", "bench-password-123"  # what bench.tokens.provision registers
REQUEST_TIMEOUT = 60.0


async def run_load(label: str, url: str, requests: list[tuple[bytes, dict[str, str]]], concurrency: int) -> LoadResult:
    """Like bench.loadgen.run_load, but a request that fails or times out is counted (with the time it took),
    not raised: with the loop blocked, /token answers can take longer than any sane timeout."""
    queue = list(reversed(requests))
    latencies: list[float] = []
    errors = 0
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency), timeout=timeout) as session:

        async def worker() -> None:
            nonlocal errors
            while queue:
                body, headers = queue.pop()
                t = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers) as resp:
                        await resp.read()
                        errors += resp.status >= 400
                except (aiohttp.ClientError, TimeoutError):
                    errors += 1
                latencies.append((time.perf_counter() - t) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return LoadResult(label, len(requests), errors, elapsed, latencies)


def catalog_csv(target_bytes: int) -> bytes:
    """A valid catalog of about `target_bytes` (distinct names, every column filled)."""
    header = "nome,sku,principios_ativos,indicacoes,contraindicacoes,exige_receita,preco,tags\n"
    lines = [header]
    size, i = len(header), 0
    while size < target_bytes:
        line = (
            f"Produto de teste {i} 500 mg,SKU{i:07d},dipirona|cafeína,dor de cabeça|febre|dor muscular,"
            f"gravidez|alergia a dipirona,não,{8 + i % 90}.50,analgésico|antitérmico\n"
        )
        lines.append(line)
        size += len(line.encode())
        i += 1
    return "".join(lines).encode()


async def background_load(base: str, access: str, logins: int, csv: bytes, stop_at: asyncio.Event) -> dict[str, int]:
    """Logins (right and wrong) and catalog uploads until `stop_at` is set; counts of what completed."""
    done = {"logins": 0, "login_errors": 0, "uploads": 0, "upload_errors": 0}

    async def login(right: bool) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT) as c:
            while not stop_at.is_set():
                try:
                    password = PASSWORD if right else "wrong-pw-123"
                    r = await c.post("/auth/login", json={"email": EMAIL, "password": password})
                    ok = r.status_code == (200 if right else 401)
                except httpx.HTTPError:
                    ok = False
                done["logins"] += 1
                done["login_errors"] += not ok

    async def upload() -> None:
        headers = {"Authorization": f"Bearer {access}", "Content-Type": "text/csv"}
        async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT) as c:
            while not stop_at.is_set():
                try:
                    r = await c.post("/catalog/import", params={"dry_run": "true"}, content=csv, headers=headers)
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                done["uploads"] += 1
                done["upload_errors"] += not ok

    await asyncio.gather(*(login(i % 2 == 0) for i in range(logins)), upload())
    return done


def _background_process(base: str, access: str, logins: int, csv_mb: float, stop: Any, out: Any) -> None:
    """The background load in its own process, so its client work never delays the measured requests."""

    async def go() -> dict[str, int]:
        stop_at = asyncio.Event()

        async def watch() -> None:
            # A multiprocessing.Event has no awaitable form: wait for it in a thread.
            await asyncio.to_thread(stop.wait)
            stop_at.set()

        watcher = asyncio.create_task(watch())
        load = asyncio.create_task(
            background_load(base, access, logins, catalog_csv(int(csv_mb * 1024 * 1024)), stop_at)
        )
        await asyncio.sleep(0.5)
        out.put("started")  # the clients are connected and their first requests sent
        done = await load
        await watcher
        return done

    out.put(asyncio.run(go()))


async def access_token(base: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        r = await c.post("/auth/login", json={"email": EMAIL, "password": PASSWORD})
        r.raise_for_status()
        return str(r.json()["accessToken"])


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1000, help="/token requests per phase and round")
    ap.add_argument("--concurrency", type=int, default=4, help="concurrent /token clients")
    ap.add_argument("--logins", type=int, default=20, help="concurrent login clients in the loaded phase")
    ap.add_argument("--csv-mb", type=float, default=4.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    admin, _embedded = admin_dsn()
    dsn = await create_database(admin, prefix="escuta_bench")
    await migrate_dsn(dsn)
    env = {
        "LIVEKIT_API_KEY": KEY,
        "LIVEKIT_API_SECRET": SECRET,
        "ESCUTA_DATABASE_URL": dsn,
        "ESCUTA_LOG_LEVEL": "WARNING",
        # The bench measures the loop, not the limits: neither /token nor the logins may be throttled.
        "ESCUTA_RATE_LIMIT_TOKEN": "10000000/minute",
        "ESCUTA_RATE_LIMIT_LOGIN": "10000000/minute",
    }
    csv_bytes = len(catalog_csv(int(args.csv_mb * 1024 * 1024)))
    port = free_port()
    proc = start_uvicorn("control_api.main:app", port, env)
    base = f"http://127.0.0.1:{port}"
    alone: list[LoadResult] = []
    loaded: list[LoadResult] = []
    background: list[dict[str, int]] = []
    try:
        org, key = await provision(base)
        access = await access_token(base)
        url = f"{base}/token"
        reqs = bodies(args.requests, org, 50, key)
        await run_load("warmup", url, reqs[:200], args.concurrency)
        for _ in range(args.rounds):
            alone.append(await run_load("/token alone", url, reqs, args.concurrency))
            ctx = multiprocessing.get_context("spawn")
            stop_load, out = ctx.Event(), ctx.Queue()
            load = ctx.Process(
                target=_background_process, args=(base, access, args.logins, args.csv_mb, stop_load, out)
            )
            load.start()
            assert await asyncio.to_thread(out.get, True, REQUEST_TIMEOUT) == "started"
            await asyncio.sleep(1.0)  # let the logins and the first upload get going
            loaded.append(await run_load("/token under load", url, reqs, args.concurrency))
            stop_load.set()
            background.append(await asyncio.to_thread(out.get, True, 3 * REQUEST_TIMEOUT))
            load.join()
    finally:
        stop(proc)
        await drop_database(admin, dsn)

    def median(rs: list[LoadResult]) -> LoadResult:
        return sorted(rs, key=lambda r: r.pct(99))[len(rs) // 2]

    a, b = median(alone), median(loaded)
    print(
        f"\nPOST /token, {args.requests} requests x {args.rounds} rounds (median round by p99), concurrency "
        f"{args.concurrency}; load = {args.logins} looping logins (half wrong passwords) + one looping "
        f"{csv_bytes / 1e6:.1f} MB catalog upload (dry run); {os.cpu_count()} cores shared with the load generator\n"
    )
    print("| phase              | errs |  p50 ms |  p99 ms |  max ms |")
    print("|--------------------|------|---------|---------|---------|")
    for r in (a, b):
        print(f"| {r.label:<18} | {r.errors:>4} | {r.pct(50):>7.1f} | {r.pct(99):>7.1f} | {r.pct(100):>7.1f} |")
    per_round = ", ".join(f"{lo.pct(99) / al.pct(99):.2f}" for al, lo in zip(alone, loaded, strict=True))
    print(
        f"\np99 under load / p99 alone: {b.pct(99) / a.pct(99):.2f}x (goal <= 2x; per round: {per_round}); "
        f"p50 {b.pct(50) / a.pct(50):.2f}x"
    )
    print("background work completed per round: " + json.dumps(background))
    if a.errors or b.errors or any(d["login_errors"] or d["upload_errors"] for d in background):
        raise SystemExit("some requests failed")


if __name__ == "__main__":
    t0 = time.perf_counter()
    asyncio.run(main())
    print(f"({time.perf_counter() - t0:.0f} s)")
