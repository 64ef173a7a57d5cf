"""The counter Excel export (`GET /api/export/xlsx`) on a large range, and what it does to `/token` (issue 20.2).

    .venv/bin/python -m bench.export_xlsx [--interactions 100000] [--runs 3]
        [--compare /work/wt/scale-base]   # also measure another checkout's code (e.g. main), same run

Fills a scratch PostgreSQL database (embedded unless ESCUTA_TEST_DATABASE_URL is set) with one
organization, 10 counter devices and N interactions of one recommendation each (half with feedback, a
third with LLM tokens) by COPY, then ANALYZE (without statistics the planner guesses, and the export's
queries ran past asyncpg's 30 s statement timeout). Then:

1. the streaming writers, in this process: openpyxl write-only, XlsxWriter constant_memory and our own
   (core/counter/xlsx.py, the one the API uses), with the CPU time each took;
2. the API as a uvicorn process (each `--compare` checkout's code with its own migrations, then this
   one's): `/token` p50/p99 alone, then the export's wall time through the real route with `/token`
   load running meanwhile, `--runs` times. A run passes when the export answers 200 with a workbook.

The `/token` load comes from a process of its own (bench/loadgen.py `LoadProcess`), not from this
bench's event loop, which also reads the 10 MB download. By default it is an open loop at 500 requests/s
(a busy minute's rate: 10,000 rooms a minute with one to four participants is 170-670 tokens/s), latency
counted from when each request was due: a latency goal is about traffic arriving at its own pace. A
closed loop (`--token-rate 0`: four clients as fast as answered) keeps both cores busy by itself, and an
export, which runs only on CPU time requests leave idle, then measures how little is left.

Goals: 100k interactions in <= 8 s; `/token` p99 during an export <= 1.5x alone; every run passes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.accounts import sign_up
from bench.loadgen import LoadProcess, free_port, run_load, stop
from core.settings import Settings
from db.counter_report import Prices, write_report
from db.pool import create_pool
from db.tenancy import tenant_connection
from tests.pg import admin_dsn, create_database, drop_database

BATCH = 5000
HERE = Path(__file__).resolve().parent.parent
KEY, SECRET = "benchkey", "bench-secret-0123456789abcdef0123456789"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def batches(n: int, org: uuid.UUID, devices: list[uuid.UUID], t0: datetime) -> Iterator[tuple[list[Any], ...]]:
    for start in range(0, n, BATCH):
        inter, recs, fbs = [], [], []
        for k in range(start, min(n, start + BATCH)):
            iid, rid = uuid.uuid4(), uuid.uuid4()
            at = t0 + timedelta(days=20) * (k / n)  # spread over 20 days
            inter.append((iid, org, devices[k % len(devices)], f"RM_{k}", "Carla", "openai", 42.0, at, at))
            llm = k % 3 == 0
            recs.append((
                rid, org, iid, "Paracetamol 750 mg", "Cliente relatou dor de cabeça; indicado para dor de cabeça.",
                "Boa tarde, tô com uma dor de cabeça desde ontem, queria alguma coisa pra isso.", "Carla",
                "openai" if llm else "local", 320 if llm else None, 40 if llm else None, 0.4, at,
            ))  # fmt: skip
            if k % 2 == 0:
                fbs.append((rid, org, k % 4 == 0, "rpc"))
        yield inter, recs, fbs


async def fill(dsn: str, org: uuid.UUID, n: int, t0: datetime) -> float:
    """COPY the interactions into ``org`` (10 new devices), then ANALYZE; the seconds it took."""
    conn = await asyncpg.connect(dsn)
    try:
        devices = [
            await conn.fetchval("INSERT INTO devices (org_id, name) VALUES ($1, $2) RETURNING id", org, f"Balcão {i}")
            for i in range(10)
        ]
        started = time.perf_counter()
        for inter, recs, fbs in batches(n, org, devices, t0):
            await conn.copy_records_to_table(
                "counter_interactions", records=inter,
                columns=["id", "org_id", "device_id", "meeting_id", "atendente", "stt_provider", "stt_seconds",
                         "started_at", "ended_at"],
            )  # fmt: skip
            await conn.copy_records_to_table(
                "counter_recommendations", records=recs,
                columns=["id", "org_id", "interaction_id", "product_name", "explanation", "transcript_excerpt",
                         "atendente", "provider", "prompt_tokens", "completion_tokens", "latency_ms", "created_at"],
            )  # fmt: skip
            await conn.copy_records_to_table(
                "counter_feedback", records=fbs, columns=["recommendation_id", "org_id", "accepted", "source"]
            )
        # Fresh tables have no statistics until autovacuum gets to them: plan with real ones.
        await conn.execute("ANALYZE counter_interactions, counter_recommendations, counter_feedback, devices")
        return time.perf_counter() - started
    finally:
        await conn.close()


async def writers(dsn: str, org: uuid.UUID, t0: datetime) -> list[tuple[str, float, float, float, int]]:
    """The writers on the same rows, in this process: (writer, seconds, CPU seconds, file MB, interactions)."""
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    prices = Prices(s.counter.price_stt_per_minute, s.counter.price_llm_per_million_tokens)
    pool = await create_pool(dsn, min_size=1, max_size=2)
    out = []
    try:
        for writer in ("openpyxl", "xlsxwriter", "fast"):
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "report.xlsx"
                started, cpu = time.perf_counter(), time.process_time()
                async with tenant_connection(pool, org) as conn:
                    totals = await write_report(
                        conn, org, start=t0 - timedelta(days=1), end=datetime.now(UTC) + timedelta(days=1),
                        device_id=None, timezone=s.counter.report_timezone, prices=prices, path=path,
                        writer=writer, offload=False,  # type: ignore[arg-type]
                    )  # fmt: skip
                wall, cpu = time.perf_counter() - started, time.process_time() - cpu
                out.append((writer, wall, cpu, path.stat().st_size / 1e6, totals.interactions))
    finally:
        await pool.close()
    return out


def migrate_with(code: Path, dsn: str) -> None:
    """Apply ``code``'s own migrations (main's schema for main's code)."""
    script = "import asyncio, sys; from db.migrate import migrate_dsn; asyncio.run(migrate_dsn(sys.argv[1]))"
    env = {**os.environ, "PYTHONPATH": str(code)}
    subprocess.run([sys.executable, "-c", script, dsn], cwd=code, env=env, check=True)


def start_server(code: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "uvicorn", "control_api.main:app", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        [*argv, "--no-access-log", "--log-level", "warning"],
        cwd=code,
        env={**os.environ, **env, "PYTHONPATH": str(code)},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise RuntimeError(f"the API ({code}) exited with {proc.returncode}") from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the API did not start")


async def provision(base: str) -> tuple[uuid.UUID, dict[str, str], str]:
    """An organization with an admin and a registered device: (org id, admin headers, device key)."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        org, headers = await sign_up(c, "bench@escuta.dev", "bench-password-123", "Bench")
        (await c.put("/solutions/AiHelper", json={"profile": "balcao"}, headers=headers)).raise_for_status()
        code = (await c.post("/cadastro/codigo", headers=headers)).json()["codigo"]
        r = await c.post("/cadastro/balcao", json={"nome_balcao": "Bench 01", "user_codigo": code})
        r.raise_for_status()
        return uuid.UUID(org), headers, r.json()["api_key"]


def token_bodies(n: int, org: uuid.UUID, key: str) -> list[tuple[bytes, dict[str, str]]]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    body = {"solution": "AiHelper", "clientId": str(org)}
    return [(json.dumps({**body, "userId": f"user{i % 20}"}).encode(), headers) for i in range(n)]


async def measure_api(
    label: str, code: Path, admin: str, n: int, runs: int, token_requests: int, token_rate: float
) -> list[dict[str, Any]]:
    dsn = await create_database(admin, prefix="escuta_bench")
    port = free_port()
    env = {
        "LIVEKIT_API_KEY": KEY,
        "LIVEKIT_API_SECRET": SECRET,
        "ESCUTA_DATABASE_URL": dsn,
        "ESCUTA_LOG_LEVEL": "WARNING",
        "ESCUTA_RATE_LIMIT_TOKEN": "10000000/minute",
    }
    proc = None
    results = []
    try:
        migrate_with(code, dsn)
        proc = start_server(code, port, env)
        base = f"http://127.0.0.1:{port}"
        org, headers, key = await provision(base)
        t0 = datetime.now(UTC) - timedelta(days=20)
        seconds = await fill(dsn, org, n, t0)
        print(f"[{label}] filled {n} interactions in {seconds:.1f} s (COPY + ANALYZE)", flush=True)
        reqs = token_bodies(token_requests, org, key)
        await run_load("warmup", f"{base}/token", reqs, 4)
        frm = (t0 - timedelta(days=1)).date().isoformat()
        to = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
        async with httpx.AsyncClient(base_url=base, timeout=600) as c:
            for run in range(runs):
                load = LoadProcess(f"{base}/token", reqs, 4, rate=token_rate or None)
                await load.start()
                started = time.perf_counter()
                try:
                    r = await c.get("/api/export/xlsx", params={"from": frm, "to": to}, headers=headers)
                    wall = time.perf_counter() - started
                    ok = r.status_code == 200 and zipfile.is_zipfile(_bytes_io(r.content))
                    size = len(r.content) / 1e6
                    status = str(r.status_code)
                except httpx.HTTPError as exc:
                    wall, ok, size, status = time.perf_counter() - started, False, 0.0, type(exc).__name__
                during = await load.stop("during export")
                # The same load alone, for as long (up to a minute): samples of a similar size.
                load = LoadProcess(f"{base}/token", reqs, 4, rate=token_rate or None)
                await load.start()
                await asyncio.sleep(min(wall, 60))
                alone = await load.stop("alone")
                results.append({
                    "label": label, "run": run + 1, "export_s": wall, "ok": ok, "status": status, "mb": size,
                    "alone_p50": alone.pct(50), "alone_p99": alone.pct(99),
                    "during_p50": during.pct(50), "during_p99": during.pct(99), "during_n": during.requests,
                })  # fmt: skip
                print(f"[{label}] run {run + 1}: export {wall:.1f} s ({status}), /token p99 "
                      f"{alone.pct(99):.1f} ms alone, {during.pct(99):.1f} ms during", flush=True)  # fmt: skip
    finally:
        if proc is not None:
            stop(proc)
        await drop_database(admin, dsn)
    return results


def _bytes_io(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--interactions", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--token-requests", type=int, default=400, help="/token requests per load round")
    ap.add_argument(
        "--token-rate", type=float, default=500.0,
        help="/token requests per second, open loop (0: closed loop, 4 clients as fast as answered)",
    )  # fmt: skip
    ap.add_argument("--compare", type=Path, action="append", default=[], help="another checkout to measure first")
    ap.add_argument("--compare-runs", type=int, help="runs for the --compare checkouts (default: --runs)")
    ap.add_argument("--skip-writers", action="store_true")
    args = ap.parse_args()
    admin, _embedded = admin_dsn()

    if not args.skip_writers:
        dsn = await create_database(admin, prefix="escuta_bench")
        try:
            migrate_with(HERE, dsn)
            org = uuid.uuid4()
            conn = await asyncpg.connect(dsn)
            await conn.execute("INSERT INTO organizations (id, name) VALUES ($1, 'Bench')", org)
            await conn.close()
            t0 = datetime.now(UTC) - timedelta(days=20)
            await fill(dsn, org, args.interactions, t0)
            before = rss_mb()
            rows = await writers(dsn, org, t0)
        finally:
            await drop_database(admin, dsn)
        print(
            f"\nWriters, {args.interactions} interactions, in one process (peak RSS {before:.0f} -> {rss_mb():.0f} MB)"
        )
        print("| writer | export s | CPU s (this process) | file MB |")
        print("|---|---|---|---|")
        for writer, secs, cpu, mb, _n in rows:
            print(f"| {writer} | {secs:.1f} | {cpu:.1f} | {mb:.1f} |")

    results: list[dict[str, Any]] = []
    for code in args.compare:
        runs = args.compare_runs or args.runs
        results += await measure_api(code.name, code.resolve(), admin, args.interactions, runs,
                                     args.token_requests, args.token_rate)  # fmt: skip
    results += await measure_api(
        "this", HERE, admin, args.interactions, args.runs, args.token_requests, args.token_rate
    )

    load = f"{args.token_rate:.0f}/s (open loop)" if args.token_rate else "concurrency 4 (closed loop)"
    print(f"\nGET /api/export/xlsx, {args.interactions} interactions; /token load at {load}, "
          f"alone and during the export ({os.cpu_count()} cores shared)")  # fmt: skip
    print("| code | run | export s | result | MB | /token p99 alone ms | p99 during ms | p99 ratio | p50 ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    failed = False
    for r in results:
        failed |= not r["ok"]
        print(
            f"| {r['label']} | {r['run']} | {r['export_s']:.1f} | {'pass' if r['ok'] else 'FAIL ' + r['status']} "
            f"| {r['mb']:.1f} | {r['alone_p99']:.1f} | {r['during_p99']:.1f} "
            f"| {r['during_p99'] / r['alone_p99']:.2f}x | {r['during_p50'] / r['alone_p50']:.2f}x |"
        )
    if failed:
        raise SystemExit("some exports failed")


if __name__ == "__main__":
    asyncio.run(main())
