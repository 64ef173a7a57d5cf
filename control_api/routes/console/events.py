"""`GET /console/events`: the open page's live updates as server-sent events, rendered on the server.

The live view gets ``room`` (a room card's new HTML) and ``room-gone``; a session's page (``?meeting=``)
gets its ``transcript``, ``recommendations``, ``feedback`` and ``participants`` sections. Events come from
PostgreSQL NOTIFY through the console hub, so a row written through any process shows up here; each
burst of events is folded into one render per section. Tenant scope: the reader's organization only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from control_api.console.hub import Listener, console_hub
from control_api.console.render import Console, SignInRequired, console, environment
from control_api.console.timeline import load_timeline
from control_api.errors import ApiError
from db import console as repo
from db.tenancy import tenant_connection

router = APIRouter()
KEEPALIVE_SECONDS = 15.0
# A stream is authorized when it opens; it ends when that sign-in's access token would have expired, and
# the browser's EventSource reconnects through the session middleware (which rotates the tokens) and
# resynchronises the page. Signing out or a revoked membership so takes effect on open pages too.
MAX_STREAM_SECONDS = 900.0
RETRY_MS = 2000  # how long the browser waits before reconnecting a stream that ended
ROOM_KINDS = frozenset({"session", "participant", "track"})
SECTIONS = {
    "transcript": ("transcript",),
    "recommendation": ("recommendations",),
    "feedback": ("feedback",),
    "session": ("participants",),
    "participant": ("participants",),
    "track": (),
}


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _fragment(view: Console, template: str, **values: Any) -> str:
    return environment().get_template(template).render(c=view, t=view.t, **values)


async def _drain(listener: Listener, first: dict[str, Any]) -> list[dict[str, Any]]:
    events = [first]
    while not listener.queue.empty():
        events.append(listener.queue.get_nowait())
    return events


async def _room_updates(request: Request, view: Console, events: list[dict[str, Any]]) -> list[str]:
    out = []
    meetings = list(dict.fromkeys(str(e.get("meeting")) for e in events if e.get("kind") in ROOM_KINDS))
    for meeting in meetings:
        async with tenant_connection(request.app.state.pool, view.org_id) as conn:
            rooms = await repo.live_rooms(conn, view.org_id, meeting)
        if rooms:
            out.append(_sse("room", {"id": meeting, "html": _fragment(view, "_room.html", room=rooms[0])}))
        else:
            out.append(_sse("room-gone", {"id": meeting}))
    return out


async def _section_updates(request: Request, view: Console, meeting: str, events: list[dict[str, Any]]) -> list[str]:
    sections = {s for e in events for s in SECTIONS.get(str(e.get("kind")), ())}
    if not sections:
        return []
    timeline = await load_timeline(request.app.state.pool, view.org_id, meeting)
    if timeline is None:
        return []
    values = timeline.fragments()
    return [_sse(s, {"html": _fragment(view, f"_{s}.html", **values)}) for s in sorted(sections)]


@router.get("/console/events")
async def events(request: Request, meeting: Annotated[str | None, Query(max_length=256)] = None) -> Response:
    try:
        view = await console(request)
    except SignInRequired:
        raise ApiError(401, "unauthorized", "sign in to the console first") from None
    hub = console_hub(request.app.state)
    lifetime = min(MAX_STREAM_SECONDS, float(view.settings.jwt.access_ttl))

    async def stream() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        ends = loop.time() + lifetime
        async with hub.listen(request.app.state, view.org_id, meeting) as listener:
            yield f"retry: {RETRY_MS}\n\n"
            while True:
                left = ends - loop.time()
                if left <= 0:
                    return
                try:
                    first = await asyncio.wait_for(listener.queue.get(), min(KEEPALIVE_SECONDS, left))
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if listener.overflowed:
                    yield _sse("reload", {})
                    return
                batch = await _drain(listener, first)
                updates = (
                    await _section_updates(request, view, meeting, batch)
                    if meeting
                    else await _room_updates(request, view, batch)
                )
                for chunk in updates:
                    yield chunk

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )
