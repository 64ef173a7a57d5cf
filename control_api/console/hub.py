"""Live events for the console's open pages: one subscription to the process's feed, fanned out.

The feed (`control_api.services.live_events`, PostgreSQL LISTEN/NOTIFY) tells every API process what
changed, whichever process or worker wrote it. Each open page (one server-sent-events stream) registers
here with its organization and, on a session's page, its meeting; it is handed only its organization's
events. A page that falls behind (its queue full) is told to reload rather than shown a partial picture.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from control_api.services.live_events import live_events
from db import live

QUEUE_SIZE = 256


@dataclass(eq=False)
class Listener:
    org: str | None  # the organization's id as text (None: the platform's unowned rooms)
    meeting: str | None
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False


class ConsoleHub:
    def __init__(self) -> None:
        self._listeners: set[Listener] = set()
        self._subscribed = False

    def _ensure_subscribed(self, state: Any) -> None:
        if self._subscribed:
            return
        feed = live_events(state)
        feed.subscribe(live.SESSIONS_CHANNEL, self._on_session)
        feed.subscribe(live.CONSOLE_CHANNEL, self._on_console)
        feed.subscribe(live.FEEDBACK_CHANNEL, self._on_feedback)
        self._subscribed = True

    async def _on_session(self, event: dict[str, Any]) -> None:
        self._dispatch({"kind": "session", "org": event.get("org"), "meeting": event.get("meeting")})

    async def _on_feedback(self, event: dict[str, Any]) -> None:
        self._dispatch({"kind": "feedback", "org": event.get("org"), "meeting": event.get("meeting")})

    async def _on_console(self, event: dict[str, Any]) -> None:
        self._dispatch(event)

    def _dispatch(self, event: dict[str, Any]) -> None:
        org = event.get("org")
        for listener in list(self._listeners):
            if listener.org != org:
                continue
            if listener.meeting is not None and listener.meeting != event.get("meeting"):
                continue
            try:
                listener.queue.put_nowait(event)
            except asyncio.QueueFull:
                listener.overflowed = True

    @contextlib.asynccontextmanager
    async def listen(self, state: Any, org_id: uuid.UUID | None, meeting: str | None) -> AsyncIterator[Listener]:
        self._ensure_subscribed(state)
        listener = Listener(str(org_id) if org_id else None, meeting)
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)

    @property
    def listeners(self) -> int:
        return len(self._listeners)


def console_hub(state: Any) -> ConsoleHub:
    hub: ConsoleHub | None = getattr(state, "console_hub", None)
    if hub is None:
        hub = ConsoleHub()
        state.console_hub = hub
    return hub
