"""The chance that guessing finds one live 6-digit link code during its lifetime, from the settings.

    .venv/bin/python bench/link_code_odds.py [--live-codes 10]

Reads the same settings the API does (`ESCUTA_RATE_LIMIT_LINK_CODE_GLOBAL_FAILURES`,
`ESCUTA_LINK_CODE_TTL`). A wrong attempt tests one value; the platform-wide budget admits at most
`amount` wrong attempts per fixed window of `period` (db/migrations/0091: a failure is counted before it
is judged, and the sliding estimate is never below the current window's count), and a code's lifetime
meets at most ceil(ttl / period) + 1 windows. The code is uniform over 10^6 values, so the chance that
it is among the values tried is at most (windows x amount) / 10^6. Then it measures the same bound on
the real limiter: a burst of concurrent wrong attempts against a fresh database, counting how many are
judged (answered 400) before the 429s start.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from core.security.ratelimit import parse_limit
from core.settings import Settings

CODES = 1_000_000


def bound(settings: Settings) -> tuple[int, float, int, float]:
    """(wrong attempts per window, window seconds, max wrong attempts in a code's life, probability)."""
    amount, period = parse_limit(settings.rate_limit.link_code_global_failures)
    windows = math.ceil(settings.link_code.ttl / period) + 1
    attempts = windows * amount
    return amount, period, attempts, attempts / CODES


async def measured_budget(settings: Settings, attempts: int) -> int:
    """Wrong codes judged (400) out of ``attempts`` sent at once from distinct addresses, on a real database."""
    from control_api.app import create_app
    from db.migrate import migrate_dsn
    from db.pool import create_pool
    from tests.pg import admin_dsn, create_database, drop_database

    admin, _embedded = admin_dsn()
    dsn = await create_database(admin, "escuta_bench")
    try:
        await migrate_dsn(dsn)
        pool = await create_pool(dsn)
        app = create_app(settings, pool=pool)

        async def one(i: int) -> int:
            transport = httpx.ASGITransport(app=app, client=(f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}", 1))
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
                r = await c.post("/cadastro/balcao", json={"nome_balcao": "b", "user_codigo": f"{i:06d}"})
                return r.status_code

        statuses = await asyncio.gather(*(one(i) for i in range(attempts)))
        await pool.close()
    finally:
        await drop_database(admin, dsn)
    return statuses.count(400)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live-codes", type=int, default=10, help="codes live at once on the platform")
    parser.add_argument("--no-measure", action="store_true", help="only compute, do not run the limiter")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # one "throttled" line per refused attempt would drown the figures
    settings = Settings()
    amount, period, attempts, p = bound(settings)
    print(f"global wrong-code budget: {amount} per {period:.0f} s; code lifetime: {settings.link_code.ttl} s")
    print(f"max wrong attempts during one code's life: {attempts}")
    print(f"P(one given live code guessed in its lifetime) <= {p:.4%}   (goal < 0.1 %)")
    print(f"P(any of {args.live_codes} live codes guessed) <= {min(1.0, args.live_codes * p):.4%}")
    if not args.no_measure:
        sent = 4 * amount
        judged = asyncio.run(measured_budget(settings, sent))
        print(f"measured: {sent} concurrent wrong attempts, {judged} judged, {sent - judged} refused (budget {amount})")


if __name__ == "__main__":
    main()
