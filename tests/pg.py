"""Test databases on a real PostgreSQL server.

`ESCUTA_TEST_DATABASE_URL` (CI: the server at 127.0.0.1:5432/test) is used when set; otherwise an
embedded server is started under the system temp dir, so the suite runs on a fresh machine too. Each
test run gets its own freshly migrated database, dropped at the end; tests truncate between them.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from db.pool import Conn


def with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def admin_dsn() -> tuple[str, object | None]:
    """The DSN of a server we may create databases on, and the embedded handle if we started one."""
    url = os.environ.get("ESCUTA_TEST_DATABASE_URL")
    if url:
        return url, None
    from db.embedded import start_embedded

    data_dir = Path(tempfile.gettempdir()) / f"escuta-test-pg-{os.getuid()}"
    emb = start_embedded(data_dir, watchdog=True)
    return emb.dsn, emb


async def create_database(admin: str, prefix: str = "escuta_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(admin, name)


async def drop_database(admin: str, dsn: str) -> None:
    name = urlsplit(dsn).path.lstrip("/")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def truncate_all(conn: Conn) -> None:
    tables = await conn.fetch(
        """
        SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS t
        FROM pg_tables
        WHERE schemaname = 'public' AND tablename <> 'escuta_migrations'
        """
    )
    if tables:
        await conn.execute("TRUNCATE " + ", ".join(r["t"] for r in tables) + " RESTART IDENTITY CASCADE")
