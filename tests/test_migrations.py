"""Migrations: ordered, recorded with checksums, tamper-evident, safe under concurrency."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import asyncpg
import pytest
from asyncpg.serverversion import split_server_version_string

from db.migrate import (
    MIN_SERVER_VERSION,
    MigrationError,
    check_server_version,
    load_migrations,
    migrate,
    migrate_dsn,
    require_supported,
)
from tests.pg import create_database, drop_database


@pytest.fixture
async def empty_db(pg_admin_dsn: str) -> AsyncIterator[str]:
    dsn = await create_database(pg_admin_dsn, prefix="escuta_mig")
    yield dsn
    await drop_database(pg_admin_dsn, dsn)


async def _tables(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


async def test_apply_to_empty_database_then_noop(empty_db: str) -> None:
    applied = await migrate_dsn(empty_db)
    assert [m.version for m in applied] == [m.version for m in load_migrations()]
    assert {"escuta_migrations", "sessions", "livekit_events"} <= await _tables(empty_db)
    conn = await asyncpg.connect(empty_db)
    try:
        before = await conn.fetch("SELECT version, checksum, applied_at FROM escuta_migrations ORDER BY 1")
        assert await migrate(conn) == []
        after = await conn.fetch("SELECT version, checksum, applied_at FROM escuta_migrations ORDER BY 1")
    finally:
        await conn.close()
    assert before == after
    assert len(before) == len(load_migrations())


async def test_tampered_migration_is_refused(empty_db: str) -> None:
    await migrate_dsn(empty_db)
    migrations = load_migrations()
    tampered = [dataclasses.replace(migrations[0], sql=migrations[0].sql + "\n-- edited\n"), *migrations[1:]]
    conn = await asyncpg.connect(empty_db)
    try:
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(conn, tampered)
        # The lock was released: a correct run still works afterwards.
        assert await migrate(conn) == []
    finally:
        await conn.close()


async def test_unknown_applied_migration_is_refused(empty_db: str) -> None:
    await migrate_dsn(empty_db)
    conn = await asyncpg.connect(empty_db)
    try:
        with pytest.raises(MigrationError, match="does not know"):
            await migrate(conn, load_migrations()[:-1] if len(load_migrations()) > 1 else [])
    finally:
        await conn.close()


async def test_concurrent_migrate_calls_do_not_race(empty_db: str) -> None:
    results = await asyncio.gather(*(migrate_dsn(empty_db) for _ in range(4)))
    applied_counts = sorted(len(r) for r in results)
    # Exactly one caller applied everything; the others found nothing to do.
    assert applied_counts == [0, 0, 0, len(load_migrations())]
    conn = await asyncpg.connect(empty_db)
    try:
        n = await conn.fetchval("SELECT count(*) FROM escuta_migrations")
    finally:
        await conn.close()
    assert n == len(load_migrations())


async def test_failed_migration_leaves_nothing_behind(empty_db: str) -> None:
    migrations = load_migrations()
    bad = dataclasses.replace(migrations[-1], version=9999, name="broken", sql="CREATE TABLE x (id int); SELEC 1;")
    conn = await asyncpg.connect(empty_db)
    try:
        with pytest.raises(asyncpg.PostgresSyntaxError):
            await migrate(conn, [*migrations, bad])
        assert await conn.fetchval("SELECT to_regclass('x') IS NULL")
        assert await conn.fetchval("SELECT count(*) FROM escuta_migrations") == len(migrations)
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("reported", "shown"),
    [("13.14", "13.14"), ("13.0 (Debian 13.0-1.pgdg110+1)", "13.0"), ("12.22", "12.22"), ("9.6.24", "9.6.24")],
)
def test_servers_older_than_14_are_refused(reported: str, shown: str) -> None:
    # Parsed the way asyncpg parses the `server_version` a real server reports at connection start.
    version = split_server_version_string(reported)
    with pytest.raises(MigrationError) as exc:
        require_supported(version)
    assert str(exc.value) == f"PostgreSQL {shown} is not supported; Escuta needs {MIN_SERVER_VERSION} or newer"


@pytest.mark.parametrize("reported", ["14.0", "14.12 (Ubuntu 14.12-1)", "15.20", "16.4", "17.2", "18beta1"])
def test_servers_from_14_on_are_accepted(reported: str) -> None:
    assert MIN_SERVER_VERSION == 14
    require_supported(split_server_version_string(reported))  # no error


async def test_real_server_version_is_checked_and_accepted(empty_db: str) -> None:
    conn = await asyncpg.connect(empty_db)
    try:
        reported = await conn.fetchval("SHOW server_version")
        assert conn.get_server_version() == split_server_version_string(reported)
        assert conn.get_server_version().major >= MIN_SERVER_VERSION
        await check_server_version(conn)  # the call `migrate` makes before taking the lock
        assert [m.version for m in await migrate(conn)] == [m.version for m in load_migrations()]
    finally:
        await conn.close()
