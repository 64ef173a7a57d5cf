"""The LISTEN connection the credential cache and the live-event feed share (control_api/services/listener.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from control_api.services.listener import ReconnectingListener

CHANNEL = "escuta_test_listener"  # its own channel: no trigger of the schema notifies on it


async def _until(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not within the deadline"
        await asyncio.sleep(0.01)


async def test_it_reconnects_after_its_connection_is_terminated(database_url: str, db_pool: asyncpg.Pool) -> None:
    heard: list[str] = []
    calls: list[str] = []

    def on_notify(_conn: Any, _pid: int, _channel: str, payload: object) -> None:
        heard.append(str(payload))

    listener = ReconnectingListener(
        database_url,
        (CHANNEL,),
        on_notify,
        name="test-listener",
        log=logging.getLogger("tests.listener"),
        on_connected=lambda: calls.append("connected"),
        on_lost=lambda: calls.append("lost"),
    )
    try:
        await listener.wait_ready()
        assert calls == ["connected"]
        async with db_pool.acquire() as conn:
            await conn.execute(f"NOTIFY {CHANNEL}, 'first'")
            await _until(lambda: heard == ["first"])

            terminated = await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                f"WHERE datname = current_database() AND query ILIKE 'LISTEN%{CHANNEL}%'"
            )
            assert terminated == 1
            await _until(lambda: "lost" in calls)  # told at once, before any reconnection
            await _until(lambda: calls.count("connected") == 2)
            assert calls[0] == "connected" and calls[-1] == "connected"
            await listener.wait_ready()

            await conn.execute(f"NOTIFY {CHANNEL}, 'second'")  # heard on the new connection
            await _until(lambda: heard == ["first", "second"])
    finally:
        await listener.aclose()
    async with db_pool.acquire() as conn:
        for _ in range(200):  # aclose closed the connection (its backend leaves the view as it exits)
            left = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                f"WHERE datname = current_database() AND query ILIKE 'LISTEN%{CHANNEL}%'"
            )
            if left == 0:
                break
            await asyncio.sleep(0.01)
    assert left == 0
