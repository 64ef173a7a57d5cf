"""Plain-SQL migrations, applied in order, recorded with a checksum, serialized by an advisory lock.

Each file in ``db/migrations/`` is named ``NNNN_description.sql`` and runs in its own transaction
(so statements that cannot run in a transaction, like ``CREATE INDEX CONCURRENTLY``, are not allowed).
A file whose content changed after it was applied is an error, not a silent skip: the database would
no longer match what the code believes it is. Two processes migrating at once serialize on a
PostgreSQL advisory lock; the second finds everything applied and does nothing.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from asyncpg import ServerVersion

from db.pool import Conn

log = logging.getLogger("escuta.db.migrate")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Arbitrary but fixed: every Escuta process agrees on it ("escuta" in ASCII).
ADVISORY_LOCK_KEY = 0x657363757461
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
MIN_SERVER_VERSION = 14


class MigrationError(RuntimeError):
    """The migrations on disk and in the database disagree, or the server is unsupported."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise MigrationError(f"badly named migration file {path.name!r}: expected NNNN_name.sql")
        version = int(m.group(1))
        if version in found:
            raise MigrationError(f"two migrations share version {version:04d}")
        found[version] = Migration(version, m.group(2), path.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS escuta_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


def require_supported(version: ServerVersion) -> None:
    """Refuse a server older than PostgreSQL 14 (the decision alone, so it can be tested for any version)."""
    if version.major < MIN_SERVER_VERSION:
        # asyncpg splits "13.14" into major 13, micro 14 (minor is only used before PostgreSQL 10).
        parts = (version.major, version.micro) if version.major >= 10 else (version.major, version.minor, version.micro)
        shown = ".".join(map(str, parts))
        raise MigrationError(f"PostgreSQL {shown} is not supported; Escuta needs {MIN_SERVER_VERSION} or newer")


async def check_server_version(conn: Conn) -> None:
    """Refuse to migrate on a server older than :data:`MIN_SERVER_VERSION` (called by :func:`migrate`)."""
    require_supported(conn.get_server_version())


async def migrate(conn: Conn, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply pending migrations; return the ones applied by this call."""
    pending_all = load_migrations() if migrations is None else migrations
    await check_server_version(conn)
    await conn.execute("SELECT pg_advisory_lock($1)", ADVISORY_LOCK_KEY)
    try:
        await conn.execute(_CREATE_TABLE)
        rows = await conn.fetch("SELECT version, name, checksum FROM escuta_migrations")
        applied = {r["version"]: r for r in rows}
        known = {m.version for m in pending_all}
        unknown = sorted(set(applied) - known)
        if unknown:
            raise MigrationError(
                "the database has migrations this build does not know: "
                + ", ".join(f"{v:04d}_{applied[v]['name']}" for v in unknown)
                + " (is this an older Escuta than the one that migrated it?)"
            )
        done: list[Migration] = []
        for m in pending_all:
            row = applied.get(m.version)
            if row is not None:
                if row["checksum"] != m.checksum:
                    raise MigrationError(
                        f"migration {m.version:04d}_{m.name} was changed after it was applied "
                        f"(checksum {row['checksum'][:12]} in the database, {m.checksum[:12]} on disk); "
                        "write a new migration instead of editing an applied one"
                    )
                continue
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute(
                    "INSERT INTO escuta_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    m.version,
                    m.name,
                    m.checksum,
                )
            log.info("applied migration %04d_%s", m.version, m.name)
            done.append(m)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)


async def pending(conn: Conn) -> list[Migration]:
    """Migrations not yet applied (for readiness checks). Does not take the lock."""
    exists = await conn.fetchval("SELECT to_regclass('escuta_migrations') IS NOT NULL")
    migrations = load_migrations()
    if not exists:
        return migrations
    applied = {r["version"] for r in await conn.fetch("SELECT version FROM escuta_migrations")}
    return [m for m in migrations if m.version not in applied]


async def migrate_dsn(dsn: str) -> list[Migration]:
    conn = await asyncpg.connect(dsn)
    try:
        return await migrate(conn)
    finally:
        await conn.close()
