"""Tenant-scoped transactions: the second line of tenant isolation (the first is every query's filter).

Every tenant-owned table has row-level security policies for the ``escuta_app`` role (migration 0002)
that only let rows of ``app.org_id`` through. :func:`tenant_connection` opens a transaction, switches
to that role with ``SET LOCAL ROLE`` and sets the organization, so within it even a query that forgets
its ``WHERE org_id = ...`` sees and writes only the current organization's rows. Both settings are
transaction-local: the connection goes back to the pool clean.

The pool's login role only has to be a member of ``escuta_app`` (a superuser always is); it may be the
migration owner in development. In production, connect with a dedicated login role::

    CREATE ROLE escuta_api LOGIN PASSWORD '...' IN ROLE escuta_app;

and keep the owner for ``escuta migrate``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast
from uuid import UUID

import asyncpg

from db.pool import ACQUIRE_TIMEOUT_SECONDS, Conn

APP_ROLE = "escuta_app"


def scope_sql(role: str, org: str) -> str:
    """The select-list that scopes the current transaction: SQL expressions for the role and the org text.

    set_config('role', ..., true) is SET LOCAL ROLE (same membership check); both settings end with the
    transaction. Shared so a statement can scope itself in the same round trip (webhook ingestion).
    """
    return f"set_config('role', {role}, true), set_config('app.org_id', {org}, true)"


async def scope_to_org(conn: Conn, org_id: UUID | str | None) -> None:
    """Inside an open transaction: become the app role and set the organization (None: no tenant)."""
    await conn.execute("SELECT " + scope_sql("$1", "$2"), APP_ROLE, str(org_id) if org_id else "")


@asynccontextmanager
async def tenant_connection(pool: asyncpg.Pool | Conn, org_id: UUID | str | None) -> AsyncIterator[asyncpg.Connection]:
    """A connection in a transaction scoped to ``org_id`` (row-level security on, as ``escuta_app``).

    ``org_id=None`` is the platform's view: no tenant rows at all, only unowned ones (sessions of
    rooms nobody minted). Given a connection instead of a pool, the scope is a transaction on it, or
    a savepoint if it is already in one; the outer scope is back in force afterwards.
    """
    # Typed as a Connection (what callers annotate); at run time a pooled one is its proxy, same API.
    if not isinstance(pool, asyncpg.Pool):  # a Connection or a pool's connection proxy
        outer = None
        if pool.is_in_transaction():
            # SET LOCAL outlives a released savepoint (a rolled-back one reverts it): remember the outer scope.
            outer = await pool.fetchrow("SELECT current_setting('role') AS r, current_setting('app.org_id', true) AS o")
        async with pool.transaction():
            await scope_to_org(pool, org_id)
            yield cast(asyncpg.Connection, pool)
        if outer is not None:
            await pool.execute("SELECT " + scope_sql("$1", "$2"), outer["r"], outer["o"] or "")
        return
    # Bounded: with every connection stuck on an unresponsive server, a request gives up (a 503 with
    # Retry-After, control_api/errors.py) instead of queueing behind them for as long as they hang.
    async with pool.acquire(timeout=ACQUIRE_TIMEOUT_SECONDS) as conn, conn.transaction():
        await scope_to_org(conn, org_id)
        yield cast(asyncpg.Connection, conn)
