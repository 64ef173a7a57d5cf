"""The `escuta` command: migrations, and one clear line on bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import asyncpg

from tests.pg import create_database, drop_database


def escuta(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ESCUTA_", "LIVEKIT_"))}
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "escuta.cli", *args], env=base, capture_output=True, text=True, timeout=60
    )


async def test_migrate_applies_then_reports_up_to_date(pg_admin_dsn: str) -> None:
    dsn = await create_database(pg_admin_dsn, prefix="escuta_cli")
    try:
        status = escuta("migrate", "--status", ESCUTA_DATABASE_URL=dsn)
        assert status.returncode == 0 and "pending 0001_sessions" in status.stdout
        first = escuta("migrate", ESCUTA_DATABASE_URL=dsn)
        assert first.returncode == 0, first.stderr
        assert "0001_sessions" in first.stdout
        second = escuta("migrate", ESCUTA_DATABASE_URL=dsn)
        assert second.returncode == 0 and "up to date" in second.stdout
        conn = await asyncpg.connect(dsn)
        try:
            assert await conn.fetchval("SELECT count(*) FROM escuta_migrations") >= 1
        finally:
            await conn.close()
    finally:
        await drop_database(pg_admin_dsn, dsn)


def test_unreachable_database_is_one_line() -> None:
    r = escuta("migrate", ESCUTA_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("escuta: cannot reach the database")


def test_missing_database_url_is_one_line() -> None:
    r = escuta("migrate")
    assert r.returncode != 0
    assert r.stderr.strip().splitlines() == [
        "escuta: ESCUTA_DATABASE_URL is not set (or use `escuta run`, which starts an embedded database)"
    ]


def test_invalid_setting_is_one_line() -> None:
    r = escuta("migrate", ESCUTA_API_PORT="not-a-port")
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "ESCUTA_API_PORT" in lines[0]


def test_prod_refuses_dev_secrets() -> None:
    r = escuta("migrate", ESCUTA_ENV="prod", ESCUTA_DATABASE_URL="postgresql://x@127.0.0.1:1/x")
    assert r.returncode != 0
    assert "refusing to start with ESCUTA_ENV=prod" in r.stderr


def test_settings_markdown_lists_every_setting() -> None:
    r = escuta("settings", "--markdown")
    assert r.returncode == 0
    for name in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "ESCUTA_DATABASE_URL", "ESCUTA_AGENT_NAME"):
        assert f"`{name}`" in r.stdout
