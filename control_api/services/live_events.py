"""One feed of live events per API process, from PostgreSQL LISTEN/NOTIFY (db/live.py).

Whatever process the worker's insert went through, every API process hears it: each keeps one LISTEN
connection (opened on the first subscription, reopened with backoff if it drops) and calls its
subscribers with the notification's compact payload (``{"id", "org", "meeting", ...}``). Subscribers read
the row they need themselves, under the organization's scope. Seed 002's Socket.IO feedback uses the
feedback channel; the web console's live views (a later issue) are meant to use the same feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from db import live

log = logging.getLogger("escuta.api.live")

Subscriber = Callable[[dict[str, Any]], Awaitable[None]]
RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)


class LiveEvents:
    def __init__(self, dsn: str | None) -> None:
        self.dsn = dsn
        self._subscribers: dict[str, list[Subscriber]] = {}
        self._conn: asyncpg.Connection | None = None
        self._runner: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._lost = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self.delivered = 0

    def subscribe(self, channel: str, subscriber: Subscriber) -> None:
        if channel not in live.CHANNELS:
            raise ValueError(f"unknown live channel {channel!r}")
        self._subscribers.setdefault(channel, []).append(subscriber)
        self.start()

    def start(self) -> None:
        if self._runner is None and self.dsn:
            self._runner = asyncio.create_task(self._run(), name="live-events")

    async def wait_ready(self, within: float = 10.0) -> None:
        """Until the LISTEN is in place (tests, and callers that must not miss the next event)."""
        self.start()
        await asyncio.wait_for(self._ready.wait(), within)

    def _on_notify(self, _conn: Any, _pid: int, channel: str, payload: object) -> None:
        try:
            event = json.loads(str(payload))
        except ValueError:
            return
        for subscriber in self._subscribers.get(channel, ()):
            task = asyncio.create_task(self._call(subscriber, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _call(self, subscriber: Subscriber, event: dict[str, Any]) -> None:
        try:
            await subscriber(event)
            self.delivered += 1
        except Exception:
            log.exception("live event subscriber failed")

    def _on_terminate(self, _conn: Any) -> None:
        self._lost.set()

    async def _run(self) -> None:
        assert self.dsn is not None
        attempt = 0
        while True:
            try:
                self._conn = await live.listen(self.dsn, live.CHANNELS, self._on_notify)
                self._conn.add_termination_listener(self._on_terminate)
                attempt = 0
                self._lost.clear()
                self._ready.set()
                await self._lost.wait()
                log.warning("live events connection lost; reconnecting")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("live events: cannot listen (%s); retrying", type(exc).__name__)
            self._ready.clear()
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
        for task in list(self._tasks):
            task.cancel()


def live_events(state: Any) -> LiveEvents:
    """The app's feed (created on first use, with the app's database URL)."""
    feed: LiveEvents | None = getattr(state, "live_events", None)
    if feed is None:
        feed = LiveEvents(state.settings.db.url)
        state.live_events = feed
    return feed
