"""One feed of live events per API process, from PostgreSQL LISTEN/NOTIFY (db/live.py).

Whatever process the worker's insert went through, every API process hears it: each keeps one LISTEN
connection (services/listener.py: opened on the first subscription, reopened with backoff if it drops)
and calls its subscribers with the notification's compact payload (``{"id", "org", "meeting", ...}``). Subscribers read
the row they need themselves, under the organization's scope. Seed 002's Socket.IO feedback uses the
feedback channel; the web console's live views (a later issue) are meant to use the same feed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from control_api.services.listener import ReconnectingListener
from db import live

log = logging.getLogger("escuta.api.live")

Subscriber = Callable[[dict[str, Any]], Awaitable[None]]


class LiveEvents:
    def __init__(self, dsn: str | None) -> None:
        self.dsn = dsn
        self._subscribers: dict[str, list[Subscriber]] = {}
        self.listener = (
            ReconnectingListener(dsn, live.CHANNELS, self._on_notify, name="live-events", log=log) if dsn else None
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self.delivered = 0

    def subscribe(self, channel: str, subscriber: Subscriber) -> None:
        if channel not in live.CHANNELS:
            raise ValueError(f"unknown live channel {channel!r}")
        self._subscribers.setdefault(channel, []).append(subscriber)
        self.start()

    def start(self) -> None:
        if self.listener is not None:
            self.listener.start()

    async def wait_ready(self, within: float = 10.0) -> None:
        """Until the LISTEN is in place (tests, and callers that must not miss the next event)."""
        if self.listener is None:
            raise TimeoutError("no database URL: live events never listen")
        await self.listener.wait_ready(within)

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

    async def aclose(self) -> None:
        if self.listener is not None:
            await self.listener.aclose()
        for task in list(self._tasks):
            task.cancel()


def live_events(state: Any) -> LiveEvents:
    """The app's feed (created on first use, with the app's database URL)."""
    feed: LiveEvents | None = getattr(state, "live_events", None)
    if feed is None:
        feed = LiveEvents(state.settings.db.url)
        state.live_events = feed
    return feed
