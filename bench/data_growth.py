"""List and read routes as the data grows (issue 20.1): each at 10k and at 1M rows per table.

    nice -n 10 .venv/bin/python -m bench.data_growth [--rows 1000000] [--repeat 15]
        [--compare /work/wt/scale-base]   # also measure another checkout's code (e.g. main), same run
        [--only catalog]                  # just the catalog products and their routes

For each size (10,000, then ``--rows``) a scratch database (embedded unless ESCUTA_TEST_DATABASE_URL is
set) gets its code's migrations, one big organization with that many rows in each table the routes
read (sessions, transcripts, catalog products, admin audit rows) and ten small organizations with 100 each,
written by COPY and then ANALYZEd. The routes are called through the real app in-process (httpx's
ASGI transport, the organization's own admin token, so row-level security is on) and the median of
``--repeat`` calls is reported after two warm-ups. Goal: each route at 1M within 2x of its 10k time.

Each (code, size) runs in a child process with that code on its path, so main's code is measured
with main's schema. The 1M run takes about 4 minutes per code on the 2-core machine (mostly COPY and
index builds); ``--rows 100000`` takes well under one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.accounts import sign_up

HERE = Path(__file__).resolve().parent.parent
SMALL_ORGS, SMALL_ROWS = 10, 100
ADMIN = "bench-admin-token"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


async def _register(client: Any, name: str) -> tuple[uuid.UUID, dict[str, str]]:
    email = f"owner-{uuid.uuid4().hex[:10]}@example.com"
    org, headers = await sign_up(client, email, "bench-password-123", name)
    return uuid.UUID(org), headers


async def _fill(conn: Any, org: uuid.UUID, n: int, tag: str, only: str | None) -> None:
    """``n`` rows per table for ``org`` (COPY in batches); with ``only``, just the table that route reads."""
    step = 50_000
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        if only == "catalog":
            await _fill_products(conn, org, tag, lo, hi)
            continue
        await conn.copy_records_to_table(
            "sessions",
            records=[
                (f"RM_{tag}_{k}", f"{tag}-room-{k % 500}", "ACTIVE" if k % 50 == 0 else "ENDED",
                 T0 + timedelta(seconds=k * 7), T0 + timedelta(seconds=k * 7 + 600), org)
                for k in range(lo, hi)
            ],
            columns=["meeting_id", "room_name", "status", "started_at", "ended_at", "org_id"],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "transcripts",
            records=[
                (f"RM_{tag}_{k // 10}", org, f"seg-{k}", "ana", float(k % 10), float(k % 10) + 1.0,
                 "tô com dor de cabeça desde ontem", "ok")
                for k in range(lo, hi)
            ],
            columns=["meeting_id", "org_id", "segment_id", "participant_identity", "start_s", "end_s", "text",
                     "status"],
        )  # fmt: skip
        await _fill_products(conn, org, tag, lo, hi)
        await conn.copy_records_to_table(
            "platform_admin_actions",
            records=[(org, "admin-token", "GET", "/members", T0 + timedelta(seconds=k)) for k in range(lo, hi)],
            columns=["org_id", "actor", "method", "path", "created_at"],
        )


async def _fill_products(conn: Any, org: uuid.UUID, tag: str, lo: int, hi: int) -> None:
    # 1 % of the products treat heartburn ("azia"): a search that matches 100 rows at 10k and 10,000 at 1M.
    await conn.copy_records_to_table(
        "catalog_products",
        records=[
            (org, f"Produto {tag} {k:07d}", ["dor de cabeça", "febre"] if k % 100 else ["azia"]) for k in range(lo, hi)
        ],
        columns=["org_id", "name", "indications"],
    )


async def _median_ms(client: Any, path: str, headers: dict[str, str], params: dict[str, Any], repeat: int) -> float:
    for _ in range(2):
        (await client.get(path, params=params, headers=headers)).raise_for_status()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        r = await client.get(path, params=params, headers=headers)
        times.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
    return statistics.median(times)


async def child(rows: int, repeat: int, only: str | None) -> dict[str, float | None]:
    """One code (the one on sys.path), one size: the routes' medians in ms (None: not in this code)."""
    import asyncpg
    import httpx

    from control_api.app import create_app
    from core.settings import Settings
    from db.migrate import migrate_dsn
    from db.pool import create_pool
    from tests.pg import admin_dsn, create_database, drop_database

    admin, _embedded = admin_dsn()
    dsn = await create_database(admin, prefix="escuta_bench")
    out: dict[str, float | None] = {}
    try:
        await migrate_dsn(dsn)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, database_url=dsn, admin_token=ADMIN, livekit_api_key="devkey",
            rate_limit_login="100000/minute",
            livekit_api_secret="bench-secret-0123456789abcdef0123456789", livekit_public_url="wss://1.2.3.4",
        )  # fmt: skip
        pool = await create_pool(dsn, min_size=1, max_size=4)
        app = create_app(settings, pool=pool)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as c:
            big, hb = await _register(c, "Big")
            smalls = [await _register(c, f"Small {i}") for i in range(SMALL_ORGS)]
            started = time.perf_counter()
            conn = await asyncpg.connect(dsn)
            try:
                await _fill(conn, big, rows, "big", only)
                for i, (org, _h) in enumerate(smalls):
                    await _fill(conn, org, SMALL_ROWS, f"s{i}", only)
                await conn.execute("VACUUM ANALYZE")  # statistics and visibility maps, as autovacuum would
                product = await conn.fetchval("SELECT id FROM catalog_products WHERE org_id = $1 LIMIT 1", big)
            finally:
                await conn.close()
            print(f"  filled {rows} rows per table in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            _small, hs = smalls[3]
            mid = f"RM_big_{rows // 2}"
            routes: list[tuple[str, str, dict[str, str], dict[str, Any]]] = [
                ("GET /sessions (big org, first page)", "/sessions", hb, {}),
                ("GET /sessions (small org, first page)", "/sessions", hs, {}),
                ("GET /sessions?status=ACTIVE", "/sessions", hb, {"status": "ACTIVE"}),
                ("GET /sessions?room=", "/sessions", hb, {"room": "big-room-7"}),
                ("GET /sessions?offset=5000", "/sessions", hb, {"offset": 5000}),
                ("GET /sessions/{id}", f"/sessions/{mid}", hb, {}),
                ("GET /sessions/{id}/transcript", f"/sessions/RM_big_{rows // 20}/transcript", hb, {}),
                ("GET /catalog/products (big org)", "/catalog/products", hb, {}),
                ("GET /catalog/products (small org)", "/catalog/products", hs, {}),
                ("GET /catalog/products?q=azia", "/catalog/products", hb, {"q": "azia"}),
                # Every product matches (the count stops at its cap); and a 2-letter search, too short for trigrams.
                ("GET /catalog/products?q=dor", "/catalog/products", hb, {"q": "dor"}),
                ("GET /catalog/products?q=zi", "/catalog/products", hb, {"q": "zi"}),
                ("GET /catalog/products/{id}", f"/catalog/products/{product}", hb, {}),
                ("GET /organization/audit", "/organization/audit", hb, {}),
            ]
            if only == "catalog":
                routes = [r for r in routes if r[1].startswith("/catalog/")]
            for label, path, headers, params in routes:
                out[label] = await _median_ms(c, path, headers, params, repeat)
            if only != "catalog":
                # Keyset paging where this code has it: the page after a deep one (5,000 rows in).
                r = await c.get("/sessions", params={"offset": 4900, "limit": 100}, headers=hb)
                cursor = r.json().get("nextCursor")
                label = "GET /sessions?cursor= (5,000 rows in)"
                out[label] = await _median_ms(c, "/sessions", hb, {"cursor": cursor}, repeat) if cursor else None
        await pool.close()
    finally:
        await drop_database(admin, dsn)
    return out


def run_child(code: Path, rows: int, repeat: int, only: str | None) -> dict[str, float | None]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", "--rows", str(rows), "--repeat", str(repeat)]
    argv += ["--only", only] if only else []
    proc = subprocess.run(argv, cwd=code, env=env, check=True, stdout=subprocess.PIPE, text=True)
    result: dict[str, float | None] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="the large size (rows per table)")
    ap.add_argument("--base-rows", type=int, default=10_000, help="the size the large one is compared with")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--compare", type=Path, action="append", default=[], help="another checkout to measure too")
    ap.add_argument(
        "--only", choices=["catalog"], help="fill and measure only the catalog products (minutes faster at 1M)"
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.rows, args.repeat, args.only))))
        return

    codes = [*(p.resolve() for p in args.compare), HERE]
    results: dict[Path, dict[int, dict[str, float | None]]] = {}
    for code in codes:
        results[code] = {}
        for rows in (args.base_rows, args.rows):
            started = time.perf_counter()
            print(f"{code.name}: {rows} rows per table ...", file=sys.stderr, flush=True)
            results[code][rows] = run_child(code, rows, args.repeat, args.only)
            print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

    small, large = args.base_rows, args.rows
    print(f"\nMedian ms of {args.repeat} calls; one organization with N rows per table plus {SMALL_ORGS} with "
          f"{SMALL_ROWS}; {os.cpu_count()} cores shared. Goal: {large:,} within 2x of {small:,}.\n")  # fmt: skip
    head = "| route |" + "".join(f" {c.name} {small // 1000}k | {c.name} {large // 1000}k | ratio |" for c in codes)
    print(head)
    print("|---|" + "---|---|---|" * len(codes))
    for label in results[HERE][small]:
        cells = []
        for code in codes:
            a, b = results[code][small].get(label), results[code][large].get(label)
            if a is None or b is None:
                cells.append(" n/a | n/a | n/a |")
            else:
                cells.append(f" {a:.1f} | {b:.1f} | {b / a:.2f}x |")
        print(f"| {label} |" + "".join(cells))


if __name__ == "__main__":
    main()
