"""The asyncpg pool every Escuta process uses."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg

from core.settings import Settings

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    # What query functions accept: a plain connection or one borrowed from a pool.
    Conn: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
else:
    Conn = asyncpg.Connection


# How long a request waits for a pooled connection before giving up (`db.tenancy.tenant_connection`).
ACQUIRE_TIMEOUT_SECONDS = 10.0


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb columns come back as Python objects instead of strings.
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, settings: Settings | None = None, **overrides: Any) -> asyncpg.Pool:
    """A pool with Escuta's codecs. Sizes and timeouts come from settings unless overridden."""
    s = settings or Settings()
    kwargs: dict[str, Any] = {
        "min_size": s.db.pool_min_size,
        "max_size": s.db.pool_max_size,
        "command_timeout": s.db.command_timeout,
        "timeout": s.db.connect_timeout,  # asyncpg's default (60 s) is how long a black-holed server stalls
        "init": _init_connection,
    }
    kwargs.update(overrides)
    pool = await asyncpg.create_pool(dsn, **kwargs)
    assert pool is not None
    return pool


async def create_pool_when_reachable(
    dsn: str, settings: Settings, on_failure: Callable[[BaseException, int], None] | None = None
) -> asyncpg.Pool:
    """`create_pool`, retried every ``db.retry_seconds`` until the server answers (a process started while
    the database is down waits for it instead of exiting). ``on_failure(error, attempt)`` sees each failure."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await create_pool(dsn, settings)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            if on_failure is not None:
                on_failure(exc, attempt)
        await asyncio.sleep(settings.db.retry_seconds)


async def connect(dsn: str, *, command_timeout: float | None = None) -> asyncpg.Connection:
    """One connection with the pool's codecs (processes that need a single connection, e.g. exports)."""
    conn: asyncpg.Connection = await asyncpg.connect(dsn, command_timeout=command_timeout)
    await _init_connection(conn)
    return conn
