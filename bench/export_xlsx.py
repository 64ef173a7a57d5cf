"""Memory and time of the counter Excel export (`GET /api/export/xlsx`) on a large range (issue 7).

    .venv/bin/python -m bench.export_xlsx --interactions 100000

Fills a scratch PostgreSQL database (embedded unless ESCUTA_TEST_DATABASE_URL is set) with one
organization, 10 counter devices and N interactions of one recommendation each (half with feedback,
a third with LLM tokens), then writes the workbook the route writes and reports wall time, file size
and the process's peak resident memory (goal: 100k interactions under 500 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.settings import Settings
from db.counter_report import Prices, write_report
from db.migrate import migrate_dsn
from db.pool import create_pool
from db.tenancy import tenant_connection
from tests.pg import admin_dsn, create_database, drop_database

BATCH = 5000


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


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--interactions", type=int, default=100_000)
    args = ap.parse_args()
    admin, _embedded = admin_dsn()
    dsn = await create_database(admin)
    try:
        await migrate_dsn(dsn)
        pool = await create_pool(dsn, min_size=1, max_size=2)
        org = uuid.uuid4()
        t0 = datetime.now(UTC) - timedelta(days=20)
        async with pool.acquire() as conn:
            await conn.execute("INSERT INTO organizations (id, name) VALUES ($1, 'Bench')", org)
            devices = [
                await conn.fetchval(
                    "INSERT INTO devices (org_id, name) VALUES ($1, $2) RETURNING id", org, f"Balcão {i}"
                )
                for i in range(10)
            ]
            started = time.perf_counter()
            for inter, recs, fbs in batches(args.interactions, org, devices, t0):
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
            print(f"filled {args.interactions} interactions in {time.perf_counter() - started:.1f} s")
        s = Settings(_env_file=None)  # type: ignore[call-arg]
        prices = Prices(s.counter.price_stt_per_minute, s.counter.price_llm_per_million_tokens)
        before = rss_mb()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "report.xlsx"
            started = time.perf_counter()
            async with tenant_connection(pool, org) as conn:
                totals = await write_report(
                    conn, org, start=t0 - timedelta(days=1), end=datetime.now(UTC) + timedelta(days=1),
                    device_id=None, timezone=s.counter.report_timezone, prices=prices, path=path,
                )  # fmt: skip
            wall = time.perf_counter() - started
            size = path.stat().st_size / 1e6
        print("| interactions | export s | file MB | peak RSS before MB | peak RSS after MB | cost USD |")
        print("|---|---|---|---|---|---|")
        print(
            f"| {totals.interactions} | {wall:.1f} | {size:.1f} | {before:.0f} | {rss_mb():.0f} | {totals.cost:.2f} |"
        )
        await pool.close()
    finally:
        await drop_database(admin, dsn)


if __name__ == "__main__":
    asyncio.run(main())
