"""One LISTEN connection kept open for as long as the process runs (db/live.py's NOTIFY channels).

The live-event feed (services/live_events.py) and the credential cache (control_api/credential_cache.py)
each hold one: a dedicated connection that listens on a few channels, noticed the moment it drops (asyncpg's
termination listener) and reopened with backoff. Their owners react through callbacks: ``on_connected``
once the LISTEN is in place (the credential cache starts trusting its entries only then), ``on_lost`` as
soon as it is not (the cache is off until reconnected). ``on_lost`` may be called more than once for one
loss (when the drop is noticed, and again before the next attempt): it must be idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from db import live

RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)


def _nothing() -> None:
    pass


class ReconnectingListener:
    def __init__(
        self,
        dsn: str,
        channels: tuple[str, ...],
        on_notify: live.Listener,
        *,
        name: str,
        log: logging.Logger,
        on_connected: Callable[[], None] = _nothing,
        on_lost: Callable[[], None] = _nothing,
    ) -> None:
        self.dsn = dsn
        self.channels = channels
        self.name = name
        self._on_notify = on_notify
        self._on_connected = on_connected
        self._on_lost = on_lost
        self._log = log
        self._conn: asyncpg.Connection | None = None
        self._runner: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._lost = asyncio.Event()

    @property
    def server_pid(self) -> int | None:
        """The backend of the current (or last) connection: which one to terminate, in tests."""
        return None if self._conn is None else self._conn.get_server_pid()

    def start(self) -> None:
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name=self.name)

    async def wait_ready(self, within: float = 10.0) -> None:
        """Until the LISTEN is in place (tests, and callers that must not miss the next notification)."""
        self.start()
        await asyncio.wait_for(self._ready.wait(), within)

    def _on_terminate(self, _conn: Any) -> None:
        self._on_lost()
        self._lost.set()

    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                self._conn = await live.listen(self.dsn, self.channels, self._on_notify)
                self._conn.add_termination_listener(self._on_terminate)
                attempt = 0
                self._lost.clear()
                self._on_connected()
                self._ready.set()
                await self._lost.wait()
                self._log.warning("%s: LISTEN connection lost; reconnecting", self.name)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self._log.warning("%s: cannot listen (%s); retrying", self.name, type(exc).__name__)
            self._ready.clear()
            self._on_lost()
            await asyncio.sleep(RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)])
            attempt += 1

    async def aclose(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None
        self._ready.clear()
