"""Do answers take as long for an e-mail that has an account as for one that does not? (issue 14)

    .venv/bin/python bench/enumeration.py [--samples 15]

Against the real app on a fresh database (in process, httpx's ASGI transport, sequential requests,
the two cases interleaved): login with a wrong password for an existing account vs an unknown e-mail,
sign-up with a taken vs a free e-mail, and an invitation to an existing vs a new e-mail. Prints the
median and p90 of each and the ratio of medians (1.00 = indistinguishable by timing). Abuse limits are
raised for the run so that they do not answer instead.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

PASSWORD = "bench password 123"


def _row(name: str, a: list[float], b: list[float]) -> str:
    ma, mb = statistics.median(a), statistics.median(b)
    pa, pb = sorted(a)[int(0.9 * (len(a) - 1))], sorted(b)[int(0.9 * (len(b) - 1))]
    return (
        f"{name:<34} existing {ma * 1000:7.1f} ms (p90 {pa * 1000:6.1f})   "
        f"unknown {mb * 1000:7.1f} ms (p90 {pb * 1000:6.1f})   ratio {ma / mb:4.2f}"
    )


async def _timed(call: Callable[[], Awaitable[httpx.Response]], expect: int) -> float:
    start = time.perf_counter()
    r = await call()
    elapsed = time.perf_counter() - start
    assert r.status_code == expect, r.text
    return elapsed


async def run(samples: int) -> None:
    from control_api.app import create_app
    from core.settings import Settings
    from db.migrate import migrate_dsn
    from db.pool import create_pool
    from tests.pg import admin_dsn, create_database, drop_database

    admin, _embedded = admin_dsn()
    dsn = await create_database(admin, "escuta_bench")
    try:
        await migrate_dsn(dsn)
        pool = await create_pool(dsn)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=dsn,
            rate_limit_login="1000000/minute",
            rate_limit_login_failures="1000000/minute",
        )
        app = create_app(settings, pool=pool)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as c:
            email = "owner@bench.dev"
            r = await c.post("/auth/register", json={"email": email, "password": PASSWORD, "organizationName": "B"})
            assert r.status_code == 202
            token = (await c.post("/auth/login", json={"email": email, "password": PASSWORD})).json()["accessToken"]
            admin_headers = {"Authorization": f"Bearer {token}"}
            cases: dict[str, tuple[list[float], list[float]]] = {
                "login (wrong password / unknown)": ([], []),
                "sign-up (taken / free e-mail)": ([], []),
                "invitation (existing / new e-mail)": ([], []),
            }
            for _ in range(2):  # warm-up, not measured
                await c.post("/auth/login", json={"email": email, "password": "wrong"})
            for _ in range(samples):
                fresh = f"{uuid.uuid4().hex[:10]}@bench.dev"
                login, signup, invite = cases.values()
                wrong = {"password": "x"}
                login[0].append(await _timed(partial(c.post, "/auth/login", json={"email": email, **wrong}), 401))
                login[1].append(await _timed(partial(c.post, "/auth/login", json={"email": fresh, **wrong}), 401))
                body = {"password": PASSWORD, "organizationName": "X"}
                signup[0].append(await _timed(partial(c.post, "/auth/register", json={"email": email, **body}), 202))
                signup[1].append(await _timed(partial(c.post, "/auth/register", json={"email": fresh, **body}), 202))
                for existing, target in ((True, fresh), (False, "m" + fresh)):  # fresh has an account now
                    call = partial(c.post, "/members", json={"email": target, "role": "member"}, headers=admin_headers)
                    invite[0 if existing else 1].append(await _timed(call, 201))
        await pool.close()
    finally:
        await drop_database(admin, dsn)
    print(f"{samples} samples each, interleaved; ratio = median(existing) / median(unknown)")
    for name, (a, b) in cases.items():
        print(_row(name, a, b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args()
    asyncio.run(run(args.samples))


if __name__ == "__main__":
    main()
