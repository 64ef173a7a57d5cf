"""Shared abuse-limit counters in PostgreSQL (migration 0091): every API process counts in one place.

Each call is one statement (`escuta_rate_limit`), the sliding-window counter of
:mod:`core.security.ratelimit` done by the database, so two processes hitting the same key serialize on
its row and a limit holds however many processes there are. Keys are digests: the e-mail addresses and
link codes that identify a budget are never stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

import asyncpg

from core.security.ratelimit import RateLimited, parse_limit
from db.pool import Conn
from db.tenancy import tenant_connection

Mode = Literal["hit", "check", "record"]


def limit_key(scope: str, identifiers: tuple[str, ...]) -> bytes:
    return hashlib.sha256("\x00".join((scope, *identifiers)).encode()).digest()


async def apply(conn: Conn, key: bytes, amount: int, period: int, mode: Mode) -> tuple[int, int]:
    """(0 when allowed and counted for ``hit``/``record``, else the whole seconds to wait; the window
    the attempt was counted in, for :func:`refund`)."""
    row = await conn.fetchrow(
        "SELECT escuta_rate_limit($1, $2, $3, $4) AS wait, (floor(extract(epoch FROM now()) / $3) * $3)::bigint AS w",
        key,
        amount,
        period,
        mode,
    )
    assert row is not None
    return row["wait"], row["w"]


async def refund(conn: Conn, key: bytes, window_start: int) -> None:
    await conn.execute("SELECT escuta_rate_limit_refund($1, $2)", key, window_start)


async def purge_expired(conn: Conn, limit: int = 10_000) -> int:
    """Forget windows that count nothing any more; bounded so one call stays short."""
    status = await conn.execute(
        "DELETE FROM rate_limit_windows WHERE ctid = ANY (ARRAY("
        "SELECT ctid FROM rate_limit_windows WHERE expires_at < now() LIMIT $1))",
        limit,
    )
    return int(status.split()[-1])


@dataclass(frozen=True)
class Reservation:
    key: bytes
    window_start: int


class SharedRateLimiter:
    """Abuse budgets counted in PostgreSQL: :meth:`hit` for attempts, :meth:`reserve`/:meth:`refund`
    for failures (spent before an attempt is judged, given back when it was right).

    Each call is its own short transaction as ``escuta_app`` with no organization (the counters are
    platform data, like the attempts they count). Expired windows are swept every ``PURGE_EVERY`` calls.
    """

    PURGE_EVERY = 1000

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._calls = 0

    async def _apply(self, mode: Mode, limit: str, scope: str, identifiers: tuple[str, ...]) -> Reservation:
        amount, period = parse_limit(limit)
        self._calls += 1
        key = limit_key(scope, identifiers)
        async with tenant_connection(self.pool, None) as conn:
            wait, window = await apply(conn, key, amount, int(period), mode)
            if self._calls % self.PURGE_EVERY == 0:
                await purge_expired(conn)
        if wait:
            raise RateLimited(scope, wait)
        return Reservation(key, window)

    async def reserve(self, limit: str, scope: str, *identifiers: str) -> Reservation:
        """Spend one unit of a failure budget before judging an attempt (raise :class:`RateLimited` when
        none is left); :meth:`refund` it if the attempt turns out right. Unlike check-then-record, this
        holds under concurrent attempts."""
        return await self._apply("hit", limit, scope, identifiers)

    async def refund(self, reservation: Reservation) -> None:
        async with tenant_connection(self.pool, None) as conn:
            await refund(conn, reservation.key, reservation.window_start)

    async def hit(self, limit: str, scope: str, *identifiers: str) -> None:
        """Count one attempt; raise :class:`RateLimited` (not counted) if it is over ``limit``."""
        await self._apply("hit", limit, scope, identifiers)
